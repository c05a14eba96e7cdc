//! Channel modes as a MODE line spells them: which letters take a
//! parameter (ISUPPORT `CHANMODES` and `PREFIX`), and a mode string with
//! its arguments read into typed changes. The host applies these and
//! announces them; the client session reads them to keep its member list.

/// What kinds of channel modes a server has, as its ISUPPORT tokens say
/// (`CHANMODES=A,B,C,D` and `PREFIX=(modes)prefixes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeKinds {
    /// Type A: lists (`b`), a parameter both ways; none lists them.
    pub lists: String,
    /// Type B: a parameter both ways (`k`).
    pub always_param: String,
    /// Type C: a parameter when set only (`l`).
    pub param_when_set: String,
    /// Type D: flags (`imnt`).
    pub flags: String,
    /// Membership modes and their NAMES prefixes, highest rank first
    /// (`o` → `@`, `v` → `+`).
    pub prefixes: Vec<(char, char)>,
}

impl Default for ModeKinds {
    /// What RFC 2812 servers without ISUPPORT have, and what our host offers.
    fn default() -> Self {
        ModeKinds {
            lists: "b".into(),
            always_param: "k".into(),
            param_when_set: "l".into(),
            flags: "imnt".into(),
            prefixes: vec![('o', '@'), ('v', '+')],
        }
    }
}

impl ModeKinds {
    /// The `CHANMODES=` value.
    pub fn chanmodes_token(&self) -> String {
        format!(
            "{},{},{},{}",
            self.lists, self.always_param, self.param_when_set, self.flags
        )
    }

    /// The `PREFIX=` value.
    pub fn prefix_token(&self) -> String {
        let (modes, symbols): (String, String) = self.prefixes.iter().copied().unzip();
        format!("({modes}){symbols}")
    }

    /// Takes in an ISUPPORT `CHANMODES` value; a malformed one is ignored.
    pub fn read_chanmodes(&mut self, value: &str) {
        let mut parts = value.split(',');
        let (Some(a), Some(b), Some(c), Some(d)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return;
        };
        self.lists = a.into();
        self.always_param = b.into();
        self.param_when_set = c.into();
        self.flags = d.into();
    }

    /// Takes in an ISUPPORT `PREFIX` value (`(ov)@+`, or empty for none);
    /// a malformed one is ignored.
    pub fn read_prefix(&mut self, value: &str) {
        if value.is_empty() {
            self.prefixes.clear();
            return;
        }
        let Some((modes, symbols)) = value
            .strip_prefix('(')
            .and_then(|rest| rest.split_once(')'))
        else {
            return;
        };
        if modes.chars().count() == symbols.chars().count() {
            self.prefixes = modes.chars().zip(symbols.chars()).collect();
        }
    }

    /// The NAMES prefix a membership mode gives (`o` → `@`).
    pub fn symbol_of(&self, mode: char) -> Option<char> {
        self.prefixes
            .iter()
            .find(|(m, _)| *m == mode)
            .map(|(_, s)| *s)
    }

    /// The membership mode a NAMES prefix stands for (`@` → `o`).
    pub fn mode_of(&self, symbol: char) -> Option<char> {
        self.prefixes
            .iter()
            .find(|(_, s)| *s == symbol)
            .map(|(m, _)| *m)
    }

    /// A NAMES entry split into its membership modes (highest first, as
    /// multi-prefix lists them) and the nick.
    pub fn split_names_entry<'a>(&self, entry: &'a str) -> (Vec<char>, &'a str) {
        let mut modes = Vec::new();
        let mut rest = entry;
        while let Some(first) = rest.chars().next() {
            match self.mode_of(first) {
                Some(mode) => {
                    modes.push(mode);
                    rest = &rest[first.len_utf8()..];
                }
                None => break,
            }
        }
        (modes, rest)
    }

    fn takes_param(&self, mode: char, adding: bool) -> bool {
        self.lists.contains(mode)
            || self.always_param.contains(mode)
            || (adding && self.param_when_set.contains(mode))
            || self.prefixes.iter().any(|(m, _)| *m == mode)
    }

    /// Reads a mode string and its arguments (`"+o-v"`, `["ann", "bo"]`)
    /// into changes. A mode that needs an argument where none is left
    /// comes with `arg: None`: the host answers 461 for it, a client skips it.
    pub fn parse<'a>(&self, modes: &str, args: &[&'a str]) -> Vec<ModeChange<'a>> {
        let mut adding = true;
        let mut args = args.iter().copied();
        let mut changes = Vec::new();
        for mode in modes.chars() {
            match mode {
                '+' => adding = true,
                '-' => adding = false,
                _ => {
                    let arg = if self.takes_param(mode, adding) {
                        args.next()
                    } else {
                        None
                    };
                    changes.push(ModeChange { adding, mode, arg });
                }
            }
        }
        changes
    }
}

/// One `+x`/`-x` of a MODE line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModeChange<'a> {
    pub adding: bool,
    pub mode: char,
    pub arg: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_take_their_arguments_in_order() {
        let kinds = ModeKinds::default();
        let changes = kinds.parse("+ol-v+ntk", &["ann", "10", "bo", "secret"]);
        let spelled: Vec<_> = changes.iter().map(|c| (c.adding, c.mode, c.arg)).collect();
        assert_eq!(
            spelled,
            [
                (true, 'o', Some("ann")),
                (true, 'l', Some("10")),
                (false, 'v', Some("bo")),
                (true, 'n', None),
                (true, 't', None),
                (true, 'k', Some("secret")),
            ]
        );
        // -l takes no argument; a missing one is None, not the next mode.
        let changes = kinds.parse("-l+b", &[]);
        assert_eq!(changes[0].arg, None);
        assert_eq!(
            changes[1],
            ModeChange {
                adding: true,
                mode: 'b',
                arg: None
            }
        );
    }

    #[test]
    fn isupport_tokens_round_trip_and_bad_ones_are_ignored() {
        let mut kinds = ModeKinds::default();
        assert_eq!(kinds.chanmodes_token(), "b,k,l,imnt");
        assert_eq!(kinds.prefix_token(), "(ov)@+");
        kinds.read_prefix("(qaohv)~&@%+");
        kinds.read_chanmodes("beI,k,l,imnpst");
        assert_eq!(kinds.symbol_of('h'), Some('%'));
        assert_eq!(kinds.split_names_entry("@%ann"), (vec!['o', 'h'], "ann"));
        assert_eq!(kinds.parse("+e", &["x!*@*"])[0].arg, Some("x!*@*"));
        kinds.read_prefix("(ov)@");
        kinds.read_chanmodes("b,k");
        assert_eq!(kinds.prefixes.len(), 5);
        assert_eq!(kinds.flags, "imnpst");
        kinds.read_prefix("");
        assert_eq!(kinds.split_names_entry("@ann"), (vec![], "@ann"));
    }
}

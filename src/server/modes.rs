//! A channel's modes (`+imnt`, `+k key`, `+l limit`) and a member's rank
//! in it (`+o` operator, `+v` voiced): the state, and how MODE changes it.
//! Which letters exist and take parameters is `protocol::ModeKinds`.

use std::sync::LazyLock;

use crate::protocol::{ModeChange, ModeKinds};

/// The host's mode kinds (what its 005 advertises), made once: NAMES asks
/// for every member's prefixes.
pub(super) static HOST_MODES: LazyLock<ModeKinds> = LazyLock::new(ModeKinds::default);

/// Longest channel key (advertised as `KEYLEN`).
pub const MAX_KEY_BYTES: usize = 32;
/// Most members a `+l` may ask for: any more is no limit at all.
const MAX_LIMIT: usize = 100_000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Modes {
    /// `+i`: only those invited join.
    pub invite_only: bool,
    /// `+m`: only operators and voiced members speak.
    pub moderated: bool,
    /// `+n`: only members send to the channel.
    pub no_outside: bool,
    /// `+t`: only operators set the topic.
    pub topic_locked: bool,
    /// `+k`: the key to join with.
    pub key: Option<String>,
    /// `+l`: most members.
    pub limit: Option<usize>,
}

/// Why a flag, key or limit change was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ModeProblem {
    /// A key or limit with no parameter.
    NeedsParam,
    /// A letter this host does not know.
    Unknown,
}

impl Modes {
    /// A channel someone makes by joining it: `+nt`, as RFC 2811 servers do.
    pub fn new_channel() -> Self {
        Modes {
            no_outside: true,
            topic_locked: true,
            ..Modes::default()
        }
    }

    /// The hosted room: `+n` only, so anyone in it may set its topic (as
    /// before there were operators) until its operator sets `+t`.
    pub fn hosted_room() -> Self {
        Modes {
            no_outside: true,
            ..Modes::default()
        }
    }

    fn flag_mut(&mut self, mode: char) -> Option<&mut bool> {
        match mode {
            'i' => Some(&mut self.invite_only),
            'm' => Some(&mut self.moderated),
            'n' => Some(&mut self.no_outside),
            't' => Some(&mut self.topic_locked),
            _ => None,
        }
    }

    /// Makes a flag, key or limit change. `Ok(Some(arg))`: it changed
    /// something, announced with this parameter (empty: none); `Ok(None)`:
    /// nothing to announce (already so, or a parameter that means nothing).
    pub fn apply(&mut self, change: ModeChange) -> Result<Option<String>, ModeProblem> {
        let ModeChange { adding, mode, arg } = change;
        if let Some(flag) = self.flag_mut(mode) {
            let changed = *flag != adding;
            *flag = adding;
            return Ok(changed.then(String::new));
        }
        match (mode, adding) {
            ('k', true) => {
                let key = arg.ok_or(ModeProblem::NeedsParam)?;
                let usable =
                    !key.is_empty() && key.len() <= MAX_KEY_BYTES && !key.contains([',', ' ']);
                if !usable || self.key.as_deref() == Some(key) {
                    return Ok(None);
                }
                self.key = Some(key.to_owned());
                Ok(Some(key.to_owned()))
            }
            ('k', false) => {
                arg.ok_or(ModeProblem::NeedsParam)?;
                Ok(self.key.take().map(|_| "*".to_owned()))
            }
            ('l', true) => {
                let limit = arg.ok_or(ModeProblem::NeedsParam)?;
                match limit.parse::<usize>() {
                    Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => {
                        let changed = self.limit != Some(limit);
                        self.limit = Some(limit);
                        Ok(changed.then(|| limit.to_string()))
                    }
                    _ => Ok(None),
                }
            }
            ('l', false) => Ok(self.limit.take().map(|_| String::new())),
            _ => Err(ModeProblem::Unknown),
        }
    }

    /// The modes as 324 shows them: `+nt`, then `k`/`l` with their
    /// parameters when `with_params` (members only learn the key).
    pub fn describe(&self, with_params: bool) -> Vec<String> {
        let mut letters = String::from("+");
        let flags = [
            (self.invite_only, 'i'),
            (self.moderated, 'm'),
            (self.no_outside, 'n'),
            (self.topic_locked, 't'),
        ];
        letters.extend(flags.iter().filter(|(on, _)| *on).map(|(_, c)| c));
        let mut params = Vec::new();
        if let Some(key) = &self.key {
            letters.push('k');
            params.push(if with_params { key.clone() } else { "*".into() });
        }
        if let Some(limit) = self.limit {
            letters.push('l');
            if with_params {
                params.push(limit.to_string());
            }
        }
        std::iter::once(letters).chain(params).collect()
    }
}

/// A member's standing in one channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Rank {
    pub op: bool,
    pub voice: bool,
}

impl Rank {
    pub const OPERATOR: Rank = Rank {
        op: true,
        voice: false,
    };

    fn has(self, mode: char) -> bool {
        match mode {
            'o' => self.op,
            'v' => self.voice,
            _ => false,
        }
    }

    /// Gives or takes `o` or `v`; whether that changed anything.
    pub fn set(&mut self, mode: char, on: bool) -> bool {
        let slot = match mode {
            'o' => &mut self.op,
            'v' => &mut self.voice,
            _ => return false,
        };
        let changed = *slot != on;
        *slot = on;
        changed
    }

    /// May speak where only operators and voiced members do (`+m`, bans).
    pub fn may_speak_when_quieted(self) -> bool {
        self.op || self.voice
    }

    /// Its NAMES/WHO prefixes, highest first: all of them (`multi-prefix`)
    /// or the highest only.
    pub fn symbols(self, all: bool) -> String {
        let held = HOST_MODES
            .prefixes
            .iter()
            .filter(|(mode, _)| self.has(*mode))
            .map(|(_, symbol)| *symbol);
        if all {
            held.collect()
        } else {
            held.take(1).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(adding: bool, mode: char, arg: Option<&str>) -> ModeChange<'_> {
        ModeChange { adding, mode, arg }
    }

    #[test]
    fn flags_keys_and_limits_change_and_show() {
        let mut modes = Modes::new_channel();
        assert_eq!(modes.describe(true), ["+nt"]);
        assert_eq!(modes.apply(change(true, 'n', None)), Ok(None));
        assert_eq!(
            modes.apply(change(true, 'm', None)),
            Ok(Some(String::new()))
        );
        let key = modes.apply(change(true, 'k', Some("pw")));
        assert_eq!(key, Ok(Some("pw".into())));
        assert_eq!(modes.apply(change(true, 'l', Some("0"))), Ok(None));
        assert_eq!(
            modes.apply(change(true, 'l', Some("5"))),
            Ok(Some("5".into()))
        );
        assert_eq!(modes.describe(true), ["+mntkl", "pw", "5"]);
        assert_eq!(modes.describe(false), ["+mntkl", "*"]);
        assert_eq!(
            modes.apply(change(true, 'k', None)),
            Err(ModeProblem::NeedsParam)
        );
        assert_eq!(
            modes.apply(change(true, 'x', None)),
            Err(ModeProblem::Unknown)
        );
        assert_eq!(
            modes.apply(change(false, 'k', Some("x"))),
            Ok(Some("*".into()))
        );
        assert_eq!(
            modes.apply(change(false, 'l', None)),
            Ok(Some(String::new()))
        );
        assert_eq!(modes.describe(true), ["+mnt"]);
    }

    #[test]
    fn ranks_show_their_highest_or_all_prefixes() {
        let mut rank = Rank::default();
        assert_eq!(rank.symbols(true), "");
        assert!(rank.set('v', true));
        assert!(!rank.set('v', true));
        rank.set('o', true);
        assert_eq!(rank.symbols(false), "@");
        assert_eq!(rank.symbols(true), "@+");
    }
}

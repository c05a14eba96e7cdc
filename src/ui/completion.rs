//! Tab completion of nicknames in the message entry, GTK-free.
//!
//! The word before the cursor is a nick prefix (ignoring case). The first
//! Tab puts in the first nick that starts with it, each further Tab the
//! next one (wrapping), for as long as the entry still holds what the last
//! Tab left there; any other change starts afresh. At the start of the line
//! a nick is followed by `": "` (addressing someone), elsewhere by `" "`.
//! Positions count characters, as GTK's do.

/// The entry's new text and where its cursor goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completed {
    pub text: String,
    /// In characters.
    pub cursor: usize,
}

/// The completion under way: what the next Tab cycles through.
#[derive(Debug, Default)]
pub struct NickCompletion {
    cycle: Option<Cycle>,
}

#[derive(Debug)]
struct Cycle {
    /// The text before the completed word.
    before: String,
    /// The text after the cursor, as it was at the first Tab.
    after: String,
    candidates: Vec<String>,
    index: usize,
    /// What the last Tab left in the entry: another Tab on this cycles on.
    left: Completed,
}

impl NickCompletion {
    /// Completes the word before `cursor` in `text` against `nicks` (in
    /// the order to offer them). `None`: nothing to complete, the entry
    /// stays as it is.
    pub fn complete(&mut self, text: &str, cursor: usize, nicks: &[String]) -> Option<Completed> {
        if let Some(cycle) = &mut self.cycle {
            if cycle.left.text == text && cycle.left.cursor == cursor {
                cycle.index = (cycle.index + 1) % cycle.candidates.len();
                cycle.left = cycle.fill();
                return Some(cycle.left.clone());
            }
        }
        self.cycle = Cycle::start(text, cursor, nicks);
        self.cycle.as_ref().map(|cycle| cycle.left.clone())
    }
}

impl Cycle {
    fn start(text: &str, cursor: usize, nicks: &[String]) -> Option<Cycle> {
        let cursor_byte = byte_index(text, cursor)?;
        let (head, after) = text.split_at(cursor_byte);
        let word_start = head
            .char_indices()
            .rev()
            .take_while(|&(_, c)| is_nick_char(c))
            .last()
            .map_or(head.len(), |(index, _)| index);
        let (before, word) = head.split_at(word_start);
        if word.is_empty() {
            return None;
        }
        let prefix = word.to_lowercase();
        let candidates: Vec<String> = nicks
            .iter()
            .filter(|nick| nick.to_lowercase().starts_with(&prefix))
            .cloned()
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let mut cycle = Cycle {
            before: before.to_owned(),
            after: after.to_owned(),
            candidates,
            index: 0,
            left: Completed {
                text: String::new(),
                cursor: 0,
            },
        };
        cycle.left = cycle.fill();
        Some(cycle)
    }

    /// The text with the current candidate in place of the word.
    fn fill(&self) -> Completed {
        let nick = &self.candidates[self.index];
        let mut text = format!("{}{nick}", self.before);
        if self.before.is_empty() {
            text.push(':');
        }
        // A space already there is reused, not doubled.
        let cursor = text.chars().count() + 1;
        if !self.after.starts_with(' ') {
            text.push(' ');
        }
        text.push_str(&self.after);
        Completed { text, cursor }
    }
}

/// Letters (any script: other servers allow them), digits and IRC's
/// specials `[]\`^{}|`, `_` and `-`.
fn is_nick_char(c: char) -> bool {
    c.is_alphanumeric() || "[]\\`^{}|_-".contains(c)
}

/// The byte index of character `chars` in `text`, `None` past its end.
fn byte_index(text: &str, chars: usize) -> Option<usize> {
    text.char_indices()
        .map(|(index, _)| index)
        .chain(std::iter::once(text.len()))
        .nth(chars)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nicks(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    fn completed(text: &str, cursor: usize) -> Option<Completed> {
        Some(Completed {
            text: text.to_owned(),
            cursor,
        })
    }

    /// Presses Tab on `text` with the cursor at the end.
    fn tab_at_end(
        completion: &mut NickCompletion,
        text: &str,
        members: &[String],
    ) -> Option<Completed> {
        completion.complete(text, text.chars().count(), members)
    }

    #[test]
    fn start_of_line_adds_a_colon() {
        let members = nicks(&["alice", "Bob", "carol"]);
        let mut completion = NickCompletion::default();
        assert_eq!(
            tab_at_end(&mut completion, "bo", &members),
            completed("Bob: ", 5)
        );
    }

    #[test]
    fn mid_line_adds_a_space() {
        let members = nicks(&["alice", "bob"]);
        let mut completion = NickCompletion::default();
        assert_eq!(
            tab_at_end(&mut completion, "thanks AL", &members),
            completed("thanks alice ", 13)
        );
    }

    #[test]
    fn tabs_cycle_through_matches_and_wrap() {
        let members = nicks(&["alice", "Bob", "bobby", "carol", "BOBO_"]);
        let mut completion = NickCompletion::default();
        let first = tab_at_end(&mut completion, "hi bo", &members).unwrap();
        assert_eq!(first, completed("hi Bob ", 7).unwrap());
        let second = completion
            .complete(&first.text, first.cursor, &members)
            .unwrap();
        assert_eq!(second, completed("hi bobby ", 9).unwrap());
        let third = completion
            .complete(&second.text, second.cursor, &members)
            .unwrap();
        assert_eq!(third, completed("hi BOBO_ ", 9).unwrap());
        let wrapped = completion
            .complete(&third.text, third.cursor, &members)
            .unwrap();
        assert_eq!(wrapped, first);
    }

    #[test]
    fn typing_in_between_starts_afresh() {
        let members = nicks(&["bob", "bobby", "carol"]);
        let mut completion = NickCompletion::default();
        let first = tab_at_end(&mut completion, "bo", &members).unwrap();
        assert_eq!(first.text, "bob: ");
        // The person types on, then starts another nick.
        assert_eq!(
            tab_at_end(&mut completion, "bob: hi ca", &members),
            completed("bob: hi carol ", 14)
        );
        // Same text as a completion left, but the cursor moved: afresh.
        assert_eq!(
            completion.complete("bob: hi carol ", 7, &members),
            None,
            "the word before the cursor is `hi`"
        );
    }

    #[test]
    fn completes_in_the_middle_keeping_the_rest() {
        let members = nicks(&["alice", "bob"]);
        let mut completion = NickCompletion::default();
        // "ask al| about it": the text after the cursor stays, its space reused.
        assert_eq!(
            completion.complete("ask al about it", 6, &members),
            completed("ask alice about it", 10)
        );
        assert_eq!(
            completion.complete("al,", 2, &members),
            completed("alice: ,", 7)
        );
    }

    #[test]
    fn no_match_or_no_word_changes_nothing() {
        let members = nicks(&["alice", "bob"]);
        let mut completion = NickCompletion::default();
        assert_eq!(tab_at_end(&mut completion, "zed", &members), None);
        assert_eq!(tab_at_end(&mut completion, "hi ", &members), None);
        assert_eq!(tab_at_end(&mut completion, "", &members), None);
        assert_eq!(tab_at_end(&mut completion, "bo", &[]), None);
        assert_eq!(
            completion.complete("bo", 99, &members),
            None,
            "cursor past the end"
        );
    }

    #[test]
    fn irc_specials_and_unicode() {
        let members = nicks(&["[away]bob", "^_^", "d|gger`", "Zoë", "李雷"]);
        let mut completion = NickCompletion::default();
        assert_eq!(
            tab_at_end(&mut completion, "[aw", &members),
            completed("[away]bob: ", 11)
        );
        assert_eq!(
            tab_at_end(&mut completion, "yo ^_", &members),
            completed("yo ^_^ ", 7)
        );
        assert_eq!(
            tab_at_end(&mut completion, "d|g", &members),
            completed("d|gger`: ", 9)
        );
        // Characters, not bytes, and non-ASCII case: "你好 zOË" is 6.
        assert_eq!(
            completion.complete("你好 zOË是", 6, &members),
            completed("你好 Zoë 是", 7)
        );
        assert_eq!(
            tab_at_end(&mut completion, "你好，李", &members),
            completed("你好，李雷 ", 6)
        );
    }

    #[test]
    fn words_stop_at_punctuation() {
        let members = nicks(&["bob"]);
        let mut completion = NickCompletion::default();
        assert_eq!(
            tab_at_end(&mut completion, "(@bo", &members),
            completed("(@bob ", 6)
        );
    }
}

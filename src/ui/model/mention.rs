//! Whether a line names the person. GTK-free.

use crate::protocol::fold_case;

/// True when `text` contains `nick` as a whole word, in any letter case
/// ("mei: are you there?", "thanks, MEI!", "@mei"), but not inside a longer
/// word or nick ("meimei", "mei_away").
pub fn names(text: &str, nick: &str) -> bool {
    if nick.is_empty() {
        return false;
    }
    let text = fold_case(text);
    let nick = fold_case(nick);
    let mut from = 0;
    while let Some(found) = text[from..].find(&nick) {
        let start = from + found;
        let end = start + nick.len();
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        if !before.is_some_and(is_word_char) && !after.is_some_and(is_word_char) {
            return true;
        }
        // Step past this start, on a character boundary.
        from = start + text[start..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

/// What IRC allows in nicks continues a word. Nicks are ASCII, so any other
/// letter is a boundary: Chinese writes "mei你好" without a space.
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-[]\\`^{}|".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_in_any_case() {
        for text in [
            "mei: are you there?",
            "mei, hi",
            "thanks MEI!",
            "@mei look",
            "ask Mei.",
            "mei",
            "是 mei 吗",
            "mei你好",
            "你好mei！",
            "(mei)",
        ] {
            assert!(names(text, "mei"), "{text:?} names mei");
        }
    }

    #[test]
    fn not_inside_other_words_or_nicks() {
        for text in [
            "meimei",
            "mei_away said",
            "hi amei",
            "mei2 is here",
            "m e i",
            "",
        ] {
            assert!(!names(text, "mei"), "{text:?} does not name mei");
        }
        assert!(!names("anything", ""));
    }

    #[test]
    fn irc_nick_characters() {
        assert!(names("ping [bob]: hi", "[bob]"));
        assert!(names("[BOB] hi", "[bob]"));
        assert!(!names("x[bob]: hi", "[bob]"));
        assert!(names("a mei then mei again", "mei"));
        assert!(
            names("meimei and mei", "mei"),
            "a later whole-word match counts"
        );
    }
}

//! Finds the web and IRC links in a line of chat. GTK-free.

use std::ops::Range;

const SCHEMES: [&str; 4] = ["https://", "http://", "irc://", "ircs://"];

/// Byte ranges of the links in `text`, in order. A link runs to the next
/// whitespace; closing punctuation that usually ends a sentence is left out.
pub fn links(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some((start, scheme)) = next_scheme(text, from) {
        let tail = &text[start..];
        let word_end = tail.find(char::is_whitespace).unwrap_or(tail.len());
        let link =
            tail[..word_end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '\'', '"', '>']);
        if link.len() > scheme.len() && starts_a_word(text, start) {
            found.push(start..start + link.len());
        }
        from = start + word_end.max(scheme.len());
    }
    found
}

/// The earliest scheme at or after `from`.
fn next_scheme(text: &str, from: usize) -> Option<(usize, &'static str)> {
    let lower = text[from..].to_ascii_lowercase();
    SCHEMES
        .iter()
        .filter_map(|scheme| lower.find(scheme).map(|at| (from + at, *scheme)))
        .min_by_key(|(at, _)| *at)
}

/// `xhttp://` is not a link; `(http://` and `<http://` are.
fn starts_a_word(text: &str, start: usize) -> bool {
    text[..start]
        .chars()
        .next_back()
        .is_none_or(|before| !before.is_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        links(text).into_iter().map(|range| &text[range]).collect()
    }

    #[test]
    fn finds_links_in_prose() {
        assert_eq!(
            found("see https://gnome.org/apps, or (http://a.b/c?d=1) then irc://h:6667/#chat."),
            [
                "https://gnome.org/apps",
                "http://a.b/c?d=1",
                "irc://h:6667/#chat"
            ]
        );
        assert_eq!(found("HTTPS://X.ORG"), ["HTTPS://X.ORG"]);
    }

    #[test]
    fn ignores_non_links() {
        assert!(found("http:// alone, xhttp://no, plain words").is_empty());
        assert!(found("").is_empty());
        // Non-ASCII text before and inside a link keeps byte ranges valid.
        assert_eq!(
            found("看 https://例子.中国/路径 好"),
            ["https://例子.中国/路径"]
        );
    }
}

//! IRC formatting codes (bold, colours, …): shown as text, they are junk in
//! a terminal and boxes in the window.

const COLOUR: char = '\u{3}';

/// `text` without formatting codes and control characters; tabs and line
/// breaks become spaces so a line stays one line.
pub fn strip_formatting(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == COLOUR {
            // \x03 then up to two digits, optionally "," and up to two
            // digits: a comma with no colour before it is text.
            let has_foreground = skip_digits(&mut chars) > 0;
            let mut ahead = chars.clone();
            if has_foreground
                && ahead.next() == Some(',')
                && ahead.peek().is_some_and(char::is_ascii_digit)
            {
                chars.next();
                skip_digits(&mut chars);
            }
        } else if c == '\t' || c == '\n' || c == '\r' {
            plain.push(' ');
        } else if !c.is_control() {
            plain.push(c);
        }
    }
    plain
}

/// Whether `c` is a Unicode control that reorders the text around it
/// (bidi embeddings, overrides, isolates and marks): passed on, one person's
/// line could show reversed or mixed into the next one's.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `text` without the characters [`is_bidi_control`] names.
pub fn strip_bidi_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(is_bidi_control) {
        text.chars().filter(|c| !is_bidi_control(*c)).collect()
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Skips up to two digits; returns how many.
fn skip_digits(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> usize {
    (0..2)
        .take_while(|_| chars.next_if(char::is_ascii_digit).is_some())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_codes_are_dropped() {
        assert_eq!(
            strip_formatting("\x02bold\x02 \x0304,12red\x03 \x031,2x\x0f"),
            "bold red x"
        );
        assert_eq!(strip_formatting("\x03,5 a\tb\nc"), ",5 a b c");
        assert_eq!(strip_formatting("2\x03 45"), "2 45");
        assert_eq!(strip_formatting("\u{3}7x"), "x");
        assert_eq!(strip_formatting("你好"), "你好");
    }
}

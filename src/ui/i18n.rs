//! The translation shim. Every user-visible string in Rust goes through
//! [`gettext`] or [`gettext_f`] so `xgettext --keyword=gettext
//! --keyword=gettext_f` finds it; the real catalogue lookup slots in here.

/// The translation of `msgid` (for now, `msgid` itself).
pub fn gettext(msgid: &str) -> String {
    msgid.to_owned()
}

/// Translates `msgid`, then fills its `{name}` placeholders in one pass (so a
/// value such as the nickname `{room}` is never expanded again). Named rather
/// than positional, so a translation may reorder them.
pub fn gettext_f(msgid: &str, args: &[(&str, &str)]) -> String {
    let template = gettext(msgid);
    let mut text = String::with_capacity(template.len());
    let mut rest = template.as_str();
    while let Some(open) = rest.find('{') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            args.iter()
                .find(|(arg, _)| *arg == name)
                .map(|(_, value)| (*value, close))
        });
        match value {
            Some((value, close)) => {
                text.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                text.push('{');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_by_name() {
        assert_eq!(
            gettext_f("{who} joined {room}", &[("room", "#chat"), ("who", "bob")]),
            "bob joined #chat"
        );
    }

    #[test]
    fn values_are_not_expanded_again() {
        assert_eq!(gettext_f("{a} {b}", &[("a", "{b}"), ("b", "x")]), "{b} x");
    }

    #[test]
    fn unknown_or_unclosed_braces_stay() {
        assert_eq!(gettext_f("{nope} {a", &[("a", "x")]), "{nope} {a");
    }
}

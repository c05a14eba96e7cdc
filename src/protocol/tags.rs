//! IRCv3 message tags (`@key=value;key2 …`): reading one tag, building a
//! tag section, and the escaping rules of the message-tags spec.

/// The value of `key` in a raw tag section, unescaped; `Some("")` for a tag
/// without a value.
pub fn find(raw: &str, key: &str) -> Option<String> {
    raw.split(';').find_map(|tag| {
        let (name, value) = tag.split_once('=').unwrap_or((tag, ""));
        (name == key).then(|| unescape(value))
    })
}

/// The client-only tags (`+name[=value]`) of a raw tag section, as they were
/// sent, for relaying: `""` when there are none.
pub fn client_only(raw: &str) -> String {
    raw.split(';')
        .filter(|tag| tag.starts_with('+') && tag.len() > 1)
        .collect::<Vec<_>>()
        .join(";")
}

/// Builds a raw tag section from `(key, value)` pairs, escaping values, then
/// appends `extra` (already raw, e.g. relayed client-only tags).
pub fn build<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>, extra: &str) -> String {
    let mut out = String::new();
    for (key, value) in pairs {
        if !out.is_empty() {
            out.push(';');
        }
        out.push_str(key);
        if !value.is_empty() {
            out.push('=');
            escape_into(value, &mut out);
        }
    }
    if !extra.is_empty() {
        if !out.is_empty() {
            out.push(';');
        }
        out.push_str(extra);
    }
    out
}

fn escape_into(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            ';' => out.push_str("\\:"),
            ' ' => out.push_str("\\s"),
            '\\' => out.push_str("\\\\"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        // A lone trailing backslash is dropped, an unknown escape keeps its
        // character (the spec's rules).
        match chars.next() {
            Some(':') => out.push(';'),
            Some('s') => out.push(' '),
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_unescapes() {
        let raw = "time=2026-01-01T00:00:00.000Z;msgid=42;+draft/reply;+x=a\\sb\\:c\\\\";
        assert_eq!(find(raw, "msgid").as_deref(), Some("42"));
        assert_eq!(find(raw, "+draft/reply").as_deref(), Some(""));
        assert_eq!(find(raw, "+x").as_deref(), Some("a b;c\\"));
        assert_eq!(find(raw, "missing"), None);
        assert_eq!(find("a=trailing\\", "a").as_deref(), Some("trailing"));
    }

    #[test]
    fn keeps_only_client_tags() {
        assert_eq!(client_only("time=x;+a=1;msgid=2;+b;+"), "+a=1;+b");
        assert_eq!(client_only("time=x"), "");
    }

    #[test]
    fn builds_escaped_sections() {
        assert_eq!(
            build([("msgid", "7"), ("x", "a b;c")], "+t=1"),
            "msgid=7;x=a\\sb\\:c;+t=1"
        );
        assert_eq!(build([("batch", "")], ""), "batch");
        assert_eq!(build([], "+a"), "+a");
        let built = build([("k", "line\r\nbreak\\")], "");
        assert_eq!(find(&built, "k").as_deref(), Some("line\r\nbreak\\"));
    }
}

//! CTCP ACTION (`/me`): how an action travels inside a PRIVMSG's text.

const ACTION_START: &str = "\u{1}ACTION ";
const ACTION_END: &str = "\u{1}";

/// Bytes the framing adds to an action's text.
pub const ACTION_FRAMING_BYTES: usize = ACTION_START.len() + ACTION_END.len();

/// Wraps `text` as an action.
pub fn wrap_action(text: &str) -> String {
    format!("{ACTION_START}{text}{ACTION_END}")
}

/// The text of an action, if `text` is one (the closing `\x01` may be
/// missing, as some clients send it).
pub fn action_text(text: &str) -> Option<&str> {
    let body = text.strip_prefix('\u{1}')?;
    let body = body.strip_suffix('\u{1}').unwrap_or(body);
    let rest = body.strip_prefix("ACTION")?;
    match rest.strip_prefix(' ') {
        Some(action) => Some(action),
        None if rest.is_empty() => Some(""),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip() {
        assert_eq!(action_text(&wrap_action("waves 👋")), Some("waves 👋"));
        assert_eq!(action_text("\u{1}ACTION shrugs"), Some("shrugs"));
        assert_eq!(action_text("\u{1}ACTION\u{1}"), Some(""));
        assert_eq!(action_text("\u{1}ACTIONS\u{1}"), None);
        assert_eq!(action_text("\u{1}VERSION\u{1}"), None);
        assert_eq!(action_text("ACTION waves"), None);
        assert_eq!(wrap_action("x").len(), 1 + ACTION_FRAMING_BYTES);
    }
}

//! Desktop notifications as plain data: which lines deserve one, and what
//! it says. GTK-free; the window hands them to GApplication.

use super::ConversationId;
use crate::i18n::gettext_f;
use crate::protocol::fold_case;

/// Which lines notify while the window is in the background (the
/// `notifications` setting).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NotifyLevel {
    All,
    #[default]
    MentionsAndPrivate,
    Off,
}

impl NotifyLevel {
    /// The setting's value as GSettings stores it.
    pub fn from_setting(value: &str) -> Self {
        match value {
            "all" => NotifyLevel::All,
            "off" => NotifyLevel::Off,
            _ => NotifyLevel::MentionsAndPrivate,
        }
    }

    pub fn setting(self) -> &'static str {
        match self {
            NotifyLevel::All => "all",
            NotifyLevel::MentionsAndPrivate => "mentions",
            NotifyLevel::Off => "off",
        }
    }

    pub fn allows(self, for_you: bool) -> bool {
        match self {
            NotifyLevel::All => true,
            NotifyLevel::MentionsAndPrivate => for_you,
            NotifyLevel::Off => false,
        }
    }
}

/// Characters of the line a notification's body carries: every line the
/// wire can bring whole (a screen reader speaks the body, so shortening it
/// would hide the end of a line from those who cannot look at the window;
/// the shell clips what it shows itself). A bound only against text
/// that did not come from one IRC line.
const MAX_BODY_CHARS: usize = crate::protocol::MAX_LINE_BYTES;

/// One desktop notification, shown or updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub conversation: ConversationId,
    pub from: String,
    pub title: String,
    pub body: String,
}

impl Alert {
    /// A line from `from` in `conversation` (titled `place`: the room's
    /// name, or the person's nick for a private one).
    pub fn new(conversation: ConversationId, place: &str, from: &str, text: &str) -> Self {
        let title = match conversation {
            ConversationId::Room => {
                gettext_f("{nick} in {room}", &[("nick", from), ("room", place)])
            }
            ConversationId::Person(_) => gettext_f("{nick} (private)", &[("nick", from)]),
        };
        Alert {
            conversation,
            from: from.to_owned(),
            title,
            body: shorten(text),
        }
    }

    /// Lines from one person in one conversation share a notification, so
    /// a burst of twenty is one notification that updates.
    pub fn id(&self) -> String {
        notification_id(&self.conversation, &self.from)
    }
}

pub fn notification_id(conversation: &ConversationId, from: &str) -> String {
    format!("{}/{}", conversation.key(), fold_case(from))
}

fn shorten(text: &str) -> String {
    let mut chars = text.chars();
    let mut short: String = chars.by_ref().take(MAX_BODY_CHARS).collect();
    if chars.next().is_some() {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        for level in [
            NotifyLevel::All,
            NotifyLevel::MentionsAndPrivate,
            NotifyLevel::Off,
        ] {
            assert_eq!(NotifyLevel::from_setting(level.setting()), level);
        }
        assert!(NotifyLevel::All.allows(false));
        assert!(!NotifyLevel::MentionsAndPrivate.allows(false));
        assert!(NotifyLevel::MentionsAndPrivate.allows(true));
        assert!(!NotifyLevel::Off.allows(true));
    }

    #[test]
    fn lines_are_whole_and_only_oversized_text_is_shortened() {
        let line = "好".repeat(170);
        let alert = Alert::new(ConversationId::Room, "#chat", "li", &line);
        assert_eq!(alert.body, line, "a full IRC line (510 bytes) stays whole");
        let alert = Alert::new(ConversationId::Room, "#chat", "li", &"好".repeat(5000));
        assert_eq!(alert.body.chars().count(), MAX_BODY_CHARS + 1);
        assert!(alert.body.ends_with('…'));
        assert_eq!(alert.title, "li in #chat");
        assert_eq!(alert.id(), "room/li");
    }
}

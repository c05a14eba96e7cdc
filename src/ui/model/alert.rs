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

/// Characters of the line shown in a notification's body.
const MAX_BODY_CHARS: usize = 200;

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
    fn long_lines_are_shortened_on_a_character_boundary() {
        let alert = Alert::new(ConversationId::Room, "#chat", "li", &"好".repeat(500));
        assert_eq!(alert.body.chars().count(), MAX_BODY_CHARS + 1);
        assert!(alert.body.ends_with('…'));
        assert_eq!(alert.title, "li in #chat");
        assert_eq!(alert.id(), "room/li");
    }
}

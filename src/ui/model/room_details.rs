//! What the Room Details dialog changes: the edited settings compared
//! with the room's, as the mode changes to send. GTK-free.

use crate::api::{RoomModeChange, RoomModes};

/// The changes that turn `shown` (the room's modes) into `edited` (the
/// dialog's, or those another operator's MODE line made), one per setting
/// that differs. An empty password means
/// none; a limit of 0 means none.
pub fn changes(shown: &RoomModes, edited: &RoomModes) -> Vec<RoomModeChange> {
    let mut changes = Vec::new();
    if shown.topic_locked != edited.topic_locked {
        changes.push(RoomModeChange::TopicLocked(edited.topic_locked));
    }
    if shown.moderated != edited.moderated {
        changes.push(RoomModeChange::Moderated(edited.moderated));
    }
    if shown.invite_only != edited.invite_only {
        changes.push(RoomModeChange::InviteOnly(edited.invite_only));
    }
    let key = edited
        .key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty() && !k.contains(' '));
    if shown.key.as_deref() != key {
        changes.push(RoomModeChange::Key(key.map(str::to_owned)));
    }
    let limit = edited.limit.filter(|l| *l > 0);
    if shown.limit != limit {
        changes.push(RoomModeChange::Limit(limit));
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_differs_is_sent() {
        let shown = RoomModes {
            topic_locked: true,
            key: Some("old".into()),
            limit: Some(10),
            ..RoomModes::default()
        };
        assert_eq!(changes(&shown, &shown), []);
        let edited = RoomModes {
            topic_locked: false,
            moderated: true,
            key: Some("  ".into()),
            limit: Some(0),
            ..shown.clone()
        };
        assert_eq!(
            changes(&shown, &edited),
            [
                RoomModeChange::TopicLocked(false),
                RoomModeChange::Moderated(true),
                RoomModeChange::Key(None),
                RoomModeChange::Limit(None),
            ]
        );
        let edited = RoomModes {
            key: Some("new".into()),
            limit: Some(25),
            ..shown.clone()
        };
        assert_eq!(
            changes(&shown, &edited),
            [
                RoomModeChange::Key(Some("new".into())),
                RoomModeChange::Limit(Some(25))
            ]
        );
    }
}

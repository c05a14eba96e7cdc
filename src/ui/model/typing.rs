//! Who is typing where (IRCv3 `+typing`), and when to tell others that we
//! are. GTK-free: the window passes the clock in, so tests can move it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::ConversationId;
use crate::api::TypingState;
use crate::i18n::{gettext, gettext_f};
use crate::protocol::fold_case;

/// How long a typing notice holds without news (IRCv3 typing spec).
const ACTIVE_FOR: Duration = Duration::from_secs(6);
const PAUSED_FOR: Duration = Duration::from_secs(30);
/// We say "typing" at most this often while the person types.
pub const RESEND_ACTIVE_AFTER: Duration = Duration::from_secs(3);
/// Typists kept per conversation: a crowd typing at once is "several".
const MAX_TYPISTS: usize = 20;

#[derive(Debug, Clone)]
struct Typist {
    nick: String,
    until: Instant,
}

#[derive(Debug, Default)]
pub struct Typing {
    by_conversation: HashMap<ConversationId, Vec<Typist>>,
    /// Where we last said we are typing, and when.
    ours: Option<(ConversationId, Instant)>,
    revision: u64,
}

impl Typing {
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// `nick` reports `state` in `conversation`.
    pub fn update(
        &mut self,
        conversation: ConversationId,
        nick: &str,
        state: TypingState,
        now: Instant,
    ) {
        let until = match state {
            TypingState::Active => now + ACTIVE_FOR,
            TypingState::Paused => now + PAUSED_FOR,
            TypingState::Done => {
                self.stopped(&conversation, nick);
                return;
            }
        };
        let typists = self.by_conversation.entry(conversation).or_default();
        let folded = fold_case(nick);
        match typists.iter().position(|t| fold_case(&t.nick) == folded) {
            Some(index) => typists[index].until = until,
            None if typists.len() < MAX_TYPISTS => typists.push(Typist {
                nick: nick.to_owned(),
                until,
            }),
            None => return,
        }
        self.changed();
    }

    /// `nick` said something (or left): not typing any more.
    pub fn stopped(&mut self, conversation: &ConversationId, nick: &str) {
        let folded = fold_case(nick);
        if let Some(typists) = self.by_conversation.get_mut(conversation) {
            let before = typists.len();
            typists.retain(|t| fold_case(&t.nick) != folded);
            let (left, empty) = (typists.len() != before, typists.is_empty());
            if empty {
                self.by_conversation.remove(conversation);
            }
            if left {
                self.changed();
            }
        }
    }

    /// `nick` left everywhere (quit).
    pub fn gone(&mut self, nick: &str) {
        let conversations: Vec<ConversationId> = self.by_conversation.keys().cloned().collect();
        for conversation in conversations {
            self.stopped(&conversation, nick);
        }
    }

    /// Drops what went stale by `now`.
    pub fn expire(&mut self, now: Instant) {
        let mut dropped = false;
        for typists in self.by_conversation.values_mut() {
            let before = typists.len();
            typists.retain(|t| t.until > now);
            dropped |= typists.len() != before;
        }
        self.by_conversation
            .retain(|_, typists| !typists.is_empty());
        if dropped {
            self.changed();
        }
    }

    /// Whether anyone is shown typing (the window then checks each second).
    pub fn anyone(&self) -> bool {
        !self.by_conversation.is_empty()
    }

    /// "li is typing…" for `conversation`, if anyone is.
    pub fn line(&self, conversation: &ConversationId) -> Option<String> {
        let typists = self.by_conversation.get(conversation)?;
        let nick = |index: usize| typists[index].nick.as_str();
        Some(match typists.len() {
            0 => return None,
            1 => gettext_f("{nick} is typing…", &[("nick", nick(0))]),
            2 => gettext_f(
                "{nick} and {other} are typing…",
                &[("nick", nick(0)), ("other", nick(1))],
            ),
            _ => gettext("Several people are typing…"),
        })
    }

    /// The person typed in `conversation` (`empty`: the entry is empty
    /// again): the state to tell others, if it is time to.
    pub fn composing(
        &mut self,
        conversation: &ConversationId,
        empty: bool,
        now: Instant,
    ) -> Option<TypingState> {
        if empty {
            // Only a "typing" we said needs taking back.
            return self.ours.take().map(|_| TypingState::Done);
        }
        match &self.ours {
            Some((said_in, at))
                if said_in == conversation && now.duration_since(*at) < RESEND_ACTIVE_AFTER =>
            {
                None
            }
            _ => {
                self.ours = Some((conversation.clone(), now));
                Some(TypingState::Active)
            }
        }
    }

    /// Our line went out: it says we are done typing by itself.
    pub fn sent(&mut self) {
        self.ours = None;
    }

    pub fn clear(&mut self) {
        self.by_conversation.clear();
        self.ours = None;
        self.changed();
    }

    fn changed(&mut self) {
        self.revision = self.revision.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_notices_go_stale() {
        let mut typing = Typing::default();
        let now = Instant::now();
        typing.update(ConversationId::Room, "li", TypingState::Active, now);
        assert_eq!(
            typing.line(&ConversationId::Room).as_deref(),
            Some("li is typing…")
        );
        typing.update(ConversationId::Room, "bob", TypingState::Paused, now);
        assert_eq!(
            typing.line(&ConversationId::Room).as_deref(),
            Some("li and bob are typing…")
        );
        typing.expire(now + Duration::from_secs(7));
        assert_eq!(
            typing.line(&ConversationId::Room).as_deref(),
            Some("bob is typing…")
        );
        typing.update(ConversationId::Room, "BOB", TypingState::Done, now);
        assert_eq!(typing.line(&ConversationId::Room), None);
        assert!(!typing.anyone());
    }

    #[test]
    fn a_crowd_is_several_and_bounded() {
        let mut typing = Typing::default();
        let now = Instant::now();
        for n in 0..100 {
            typing.update(
                ConversationId::Room,
                &format!("guest{n}"),
                TypingState::Active,
                now,
            );
        }
        assert_eq!(
            typing.line(&ConversationId::Room).as_deref(),
            Some("Several people are typing…")
        );
        assert_eq!(
            typing.by_conversation[&ConversationId::Room].len(),
            MAX_TYPISTS
        );
    }

    #[test]
    fn we_say_typing_at_most_every_three_seconds() {
        let mut typing = Typing::default();
        let room = ConversationId::Room;
        let now = Instant::now();
        assert_eq!(
            typing.composing(&room, false, now),
            Some(TypingState::Active)
        );
        assert_eq!(
            typing.composing(&room, false, now + Duration::from_secs(1)),
            None
        );
        assert_eq!(
            typing.composing(&room, false, now + RESEND_ACTIVE_AFTER),
            Some(TypingState::Active)
        );
        assert_eq!(
            typing.composing(&room, true, now + Duration::from_secs(4)),
            Some(TypingState::Done)
        );
        assert_eq!(
            typing.composing(&room, true, now),
            None,
            "nothing to take back"
        );
        // Another conversation is news at once.
        typing.composing(&room, false, now);
        assert_eq!(
            typing.composing(&ConversationId::with("bob"), false, now),
            Some(TypingState::Active)
        );
        typing.sent();
        assert_eq!(typing.composing(&room, true, now), None);
    }
}

//! The window's conversations: the room, and one per person we talk to in
//! private, each with what the person has not read yet. GTK-free.

use crate::protocol::fold_case;

/// Which conversation: the room, or the private one with a person (by the
/// folded nick, so `Bob` and `bob` are one conversation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum ConversationId {
    #[default]
    Room,
    Person(String),
}

impl ConversationId {
    pub fn with(nick: &str) -> Self {
        ConversationId::Person(fold_case(nick))
    }

    /// A stable text form, for stack pages and notification ids.
    pub fn key(&self) -> String {
        match self {
            ConversationId::Room => "room".to_owned(),
            ConversationId::Person(folded) => format!("person:{folded}"),
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        match key {
            "room" => Some(ConversationId::Room),
            _ => key
                .strip_prefix("person:")
                .filter(|folded| !folded.is_empty())
                .map(|folded| ConversationId::Person(folded.to_owned())),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub id: ConversationId,
    /// The room's name, or the person's nick as they spell it.
    pub title: String,
    /// Lines that came while the person was not reading it.
    pub unread: u32,
    /// Of those, the ones meant for the person: mentions and private lines.
    pub attention: u32,
    /// The "New messages" divider already marks where this absence began.
    divider_placed: bool,
    /// A notification went out for a line of it the person was reading
    /// (the screen reader's), to withdraw all the same.
    notified_while_read: bool,
}

impl Conversation {
    fn new(id: ConversationId, title: &str) -> Self {
        Conversation {
            id,
            title: title.to_owned(),
            unread: 0,
            attention: 0,
            divider_placed: false,
            notified_while_read: false,
        }
    }

    pub fn is_private(&self) -> bool {
        matches!(self.id, ConversationId::Person(_))
    }
}

/// Private conversations kept at most; the oldest quiet one goes first.
/// A hostile crowd messaging us from fresh nicks must not grow the
/// sidebar (and one log each) without end.
pub const MAX_CONVERSATIONS: usize = 100;

/// What arrives in a conversation, for its unread counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrival {
    /// Meant for the person: a mention or a private line.
    pub for_you: bool,
}

#[derive(Debug)]
pub struct Conversations {
    /// The room first, then private ones in the order they began.
    list: Vec<Conversation>,
    selected: ConversationId,
    /// The window is the one the person is using (GTK's `is-active`).
    window_active: bool,
    /// Bumped on every change the sidebar shows.
    revision: u64,
}

impl Default for Conversations {
    fn default() -> Self {
        Conversations {
            list: vec![Conversation::new(ConversationId::Room, "")],
            selected: ConversationId::Room,
            window_active: true,
            revision: 0,
        }
    }
}

impl Conversations {
    pub fn list(&self) -> &[Conversation] {
        &self.list
    }

    pub fn selected(&self) -> &ConversationId {
        &self.selected
    }

    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub fn get(&self, id: &ConversationId) -> Option<&Conversation> {
        self.list.iter().find(|conversation| conversation.id == *id)
    }

    fn get_mut(&mut self, id: &ConversationId) -> Option<&mut Conversation> {
        self.list
            .iter_mut()
            .find(|conversation| conversation.id == *id)
    }

    pub fn has_private(&self) -> bool {
        self.list.len() > 1
    }

    pub fn window_active(&self) -> bool {
        self.window_active
    }

    /// The person sees `id` right now.
    pub fn is_being_read(&self, id: &ConversationId) -> bool {
        self.window_active && self.selected == *id
    }

    /// Mentions and private lines not read yet, over all conversations.
    pub fn attention(&self) -> u32 {
        self.list
            .iter()
            .map(|conversation| conversation.attention)
            .fold(0, u32::saturating_add)
    }

    /// The nick of the selected private conversation.
    pub fn selected_person(&self) -> Option<&str> {
        match &self.selected {
            ConversationId::Room => None,
            id => self.get(id).map(|conversation| conversation.title.as_str()),
        }
    }

    pub fn set_room_title(&mut self, room: &str) {
        if self.list[0].title != room {
            self.list[0].title = room.to_owned();
            self.changed();
        }
    }

    /// The conversation with `nick`, begun if new. Returns what a new one
    /// pushed out, if the list was full.
    pub fn open(&mut self, nick: &str) -> (ConversationId, Option<ConversationId>) {
        let id = ConversationId::with(nick);
        if let Some(conversation) = self.get_mut(&id) {
            // They may have changed the spelling of their nick's case.
            if conversation.title != nick {
                conversation.title = nick.to_owned();
                self.changed();
            }
            return (id, None);
        }
        let dropped = (self.list.len() > MAX_CONVERSATIONS)
            .then(|| self.oldest_quiet())
            .flatten();
        if let Some(dropped) = &dropped {
            self.close(dropped);
        }
        self.list.push(Conversation::new(id.clone(), nick));
        self.changed();
        (id, dropped)
    }

    /// The private conversation begun first that is neither selected nor
    /// holds unread lines.
    fn oldest_quiet(&self) -> Option<ConversationId> {
        self.list
            .iter()
            .skip(1)
            .find(|c| c.id != self.selected && c.unread == 0)
            .or_else(|| self.list.iter().skip(1).find(|c| c.id != self.selected))
            .map(|conversation| conversation.id.clone())
    }

    /// Ends a private conversation (the room cannot be closed).
    pub fn close(&mut self, id: &ConversationId) -> bool {
        if *id == ConversationId::Room {
            return false;
        }
        let before = self.list.len();
        self.list.retain(|conversation| conversation.id != *id);
        if self.list.len() == before {
            return false;
        }
        if self.selected == *id {
            self.selected = ConversationId::Room;
        }
        self.changed();
        true
    }

    /// `old` is now known as `new`: their conversation follows them,
    /// unless one with `new` exists already. The id it has now, if any.
    pub fn rename(&mut self, old: &str, new: &str) -> Option<ConversationId> {
        let old_id = ConversationId::with(old);
        let new_id = ConversationId::with(new);
        if old_id != new_id && self.get(&new_id).is_some() {
            return self.get(&old_id).map(|_| old_id);
        }
        let conversation = self.get_mut(&old_id)?;
        conversation.id = new_id.clone();
        conversation.title = new.to_owned();
        if self.selected == old_id {
            self.selected = new_id.clone();
        }
        self.changed();
        Some(new_id)
    }

    /// Shows `id`; true when it exists.
    pub fn select(&mut self, id: &ConversationId) -> bool {
        if self.get(id).is_none() {
            return false;
        }
        if self.selected != *id {
            self.selected = id.clone();
            self.changed();
        }
        true
    }

    pub fn set_window_active(&mut self, active: bool) {
        self.window_active = active;
    }

    /// Counts a line arriving in `id` while the person is not reading it.
    /// True when it is the first of this absence: the "New messages"
    /// divider goes above it.
    pub fn arrive(&mut self, id: &ConversationId, arrival: Arrival) -> bool {
        if self.is_being_read(id) {
            return false;
        }
        let Some(conversation) = self.get_mut(id) else {
            return false;
        };
        conversation.unread = conversation.unread.saturating_add(1);
        if arrival.for_you {
            conversation.attention = conversation.attention.saturating_add(1);
        }
        let first = !conversation.divider_placed;
        conversation.divider_placed = true;
        self.changed();
        first
    }

    /// A notification went out for a line of `id`. One for a line the
    /// person was reading (told anyway, for a screen reader) is withdrawn
    /// when they next read it, as one for unread lines would be.
    pub fn notified(&mut self, id: &ConversationId) {
        if !self.is_being_read(id) {
            return;
        }
        if let Some(conversation) = self.get_mut(id) {
            conversation.notified_while_read = true;
        }
    }

    /// The person reads the selected conversation (if the window is
    /// active): true when it had unread lines or a notification to
    /// withdraw.
    pub fn read_selected(&mut self) -> bool {
        if !self.window_active {
            return false;
        }
        let selected = self.selected.clone();
        let Some(conversation) = self.get_mut(&selected) else {
            return false;
        };
        let had_unread = conversation.unread > 0
            || conversation.divider_placed
            || conversation.notified_while_read;
        conversation.unread = 0;
        conversation.attention = 0;
        conversation.divider_placed = false;
        conversation.notified_while_read = false;
        if had_unread {
            self.changed();
        }
        had_unread
    }

    /// Back to the room alone, nothing unread (the window's one reset).
    pub fn reset(&mut self, room: &str) {
        let window_active = self.window_active;
        *self = Conversations {
            window_active,
            revision: self.revision,
            ..Conversations::default()
        };
        self.list[0].title = room.to_owned();
        self.changed();
    }

    fn changed(&mut self) {
        self.revision = self.revision.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FOR_YOU: Arrival = Arrival { for_you: true };
    const CHATTER: Arrival = Arrival { for_you: false };

    #[test]
    fn keys_round_trip() {
        for id in [ConversationId::Room, ConversationId::with("Bob[m]")] {
            assert_eq!(ConversationId::from_key(&id.key()), Some(id));
        }
        assert_eq!(ConversationId::from_key("person:"), None);
        assert_eq!(ConversationId::from_key("nonsense"), None);
    }

    #[test]
    fn lines_count_as_unread_only_when_not_being_read() {
        let mut conversations = Conversations::default();
        let (bob, _) = conversations.open("bob");
        assert!(!conversations.arrive(&ConversationId::Room, CHATTER));
        assert!(conversations.arrive(&bob, FOR_YOU), "first of the absence");
        assert!(!conversations.arrive(&bob, FOR_YOU));
        assert_eq!(conversations.attention(), 2);
        conversations.set_window_active(false);
        assert!(conversations.arrive(&ConversationId::Room, CHATTER));
        assert_eq!(conversations.attention(), 2, "chatter is not for you");
        assert_eq!(conversations.get(&ConversationId::Room).unwrap().unread, 1);
        // Reading needs the window active.
        assert!(!conversations.read_selected());
        conversations.set_window_active(true);
        assert!(conversations.read_selected());
        assert!(conversations.select(&bob));
        assert!(conversations.read_selected());
        assert_eq!(conversations.attention(), 0);
    }

    #[test]
    fn a_nick_change_moves_the_conversation() {
        let mut conversations = Conversations::default();
        let (bob, _) = conversations.open("bob");
        conversations.select(&bob);
        let robert = conversations.rename("bob", "Robert").unwrap();
        assert_eq!(conversations.selected(), &robert);
        assert_eq!(conversations.selected_person(), Some("Robert"));
        assert_eq!(conversations.rename("nobody", "x"), None);
        // Onto an existing conversation: both stay as they are.
        conversations.open("carol");
        assert_eq!(conversations.rename("Robert", "carol"), Some(robert));
    }

    #[test]
    fn the_list_is_bounded_and_keeps_unread_ones() {
        let mut conversations = Conversations::default();
        let (first, _) = conversations.open("first");
        conversations.arrive(&first, FOR_YOU);
        for n in 0..MAX_CONVERSATIONS * 2 {
            conversations.open(&format!("guest{n}"));
        }
        assert_eq!(conversations.list().len(), MAX_CONVERSATIONS + 1);
        assert!(conversations.get(&first).is_some(), "unread lines stay");
        assert_eq!(conversations.list()[0].id, ConversationId::Room);
    }

    #[test]
    fn the_room_cannot_be_closed() {
        let mut conversations = Conversations::default();
        assert!(!conversations.close(&ConversationId::Room));
        let (bob, _) = conversations.open("bob");
        conversations.select(&bob);
        assert!(conversations.close(&bob));
        assert_eq!(conversations.selected(), &ConversationId::Room);
    }
}

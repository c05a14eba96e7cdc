//! The reducer: the room's state, changed only by network events and the
//! person's actions, each answering with the [`Effect`]s the window carries
//! out.

use std::time::Instant;

use super::conversations::Arrival;
use super::header::{self, Header};
use super::{
    history, mention, Alert, ConversationId, Conversations, Effect, Members, NearbyRooms,
    NotifyLevel, PendingLines, Phase, SeenIds, Typing, Visit,
};
use crate::api::{
    Command, DisconnectReason, Event, ExpectedIdentity, HistoryKind, Presence, Rank, Security,
};
use crate::i18n::{gettext, gettext_f};
use crate::protocol::{fold_case, is_channel_name, Fingerprint};
use crate::ui::log_entry::{self, LogEntry};
use crate::ui::problem::{self, Problem};

#[derive(Debug)]
pub struct Room {
    phase: Phase,
    visit: Visit,
    members: Members,
    /// Bumped on every member change, so views redraw the list only then.
    members_revision: u64,
    pending: PendingLines,
    seen: SeenIds,
    /// This session reached the room once: a later `Connected` is a reconnect.
    joined_once: bool,
    /// The network thread waits before its next attempt (also possible
    /// while still connecting): Reconnect Now can skip the wait.
    waiting_to_reconnect: bool,
    conversations: Conversations,
    notify_level: NotifyLevel,
    typing: Typing,
    /// Rooms on the local network, whatever the phase.
    nearby: NearbyRooms,
    /// The person shares typing (and so sees others'): the `share-typing`
    /// setting.
    share_typing: bool,
    /// A screen reader runs (the desktop's `ScreenReaderEnabled`).
    screen_reader: bool,
}

impl Default for Room {
    fn default() -> Self {
        Room {
            phase: Phase::default(),
            visit: Visit::default(),
            members: Members::default(),
            members_revision: 0,
            pending: PendingLines::default(),
            seen: SeenIds::default(),
            joined_once: false,
            waiting_to_reconnect: false,
            conversations: Conversations::default(),
            notify_level: NotifyLevel::default(),
            typing: Typing::default(),
            nearby: NearbyRooms::default(),
            share_typing: true,
            screen_reader: false,
        }
    }
}

impl Room {
    // ----- What views read -------------------------------------------------

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn visit(&self) -> &Visit {
        &self.visit
    }

    pub fn members(&self) -> &Members {
        &self.members
    }

    pub fn members_revision(&self) -> u64 {
        self.members_revision
    }

    /// Our own lines shown as still on their way.
    pub fn pending(&self) -> &PendingLines {
        &self.pending
    }

    pub fn header(&self) -> Header {
        header::header(self.phase, &self.visit, &self.conversations)
    }

    pub fn conversations(&self) -> &Conversations {
        &self.conversations
    }

    pub fn nearby(&self) -> &NearbyRooms {
        &self.nearby
    }

    /// "li is typing…" in the conversation shown, if anyone is.
    pub fn typing_line(&self) -> Option<String> {
        self.typing.line(self.conversations.selected())
    }

    pub fn typing_revision(&self) -> u64 {
        self.typing.revision()
    }

    /// Someone is shown typing: the window lets it go stale in time.
    pub fn anyone_typing(&self) -> bool {
        self.typing.anyone()
    }

    /// We may remove members and change the room's modes.
    pub fn we_are_operator(&self) -> bool {
        self.phase.can_chat() && self.our_rank().is_operator()
    }

    pub fn our_rank(&self) -> Rank {
        self.members.rank(&self.visit.nick)
    }

    /// We may invite someone: into an invitation-only room only as its
    /// operator, into any other as any member.
    pub fn may_invite(&self) -> bool {
        self.phase.can_chat() && (!self.visit.room_modes.invite_only || self.we_are_operator())
    }

    pub fn is_hosting(&self) -> bool {
        self.visit.is_hosting()
    }

    /// Whether Reconnect Now has a wait to skip.
    pub fn can_reconnect_now(&self) -> bool {
        self.waiting_to_reconnect
    }

    /// Leaving now would close a room we host for everyone in it.
    pub fn leaving_closes_room(&self) -> bool {
        self.is_hosting() && self.phase.can_chat()
    }

    // ----- What the person does --------------------------------------------

    /// Sends a Host or Connect and waits for the room. `fresh` starts a new
    /// log; a retry keeps the old one to read.
    pub fn start(&mut self, request: Command, fresh: bool) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.reset(
            Phase::Connecting,
            Visit::for_request(request.clone()),
            fresh,
            &mut effects,
        );
        effects.push(Effect::Send(request));
        effects
    }

    /// Repeats the last Host or Connect, keeping the log.
    pub fn retry(&mut self) -> Vec<Effect> {
        match self.visit.request.clone() {
            Some(request) => self.start(request, false),
            None => Vec::new(),
        }
    }

    /// After the host's identity changed: connects again, trusting the
    /// certificate it showed (the person compared safety codes).
    pub fn trust_new_identity(&mut self) -> Vec<Effect> {
        let (Some(presented), Some(Command::Connect(mut request))) =
            (self.visit.changed_identity, self.visit.request.clone())
        else {
            return Vec::new();
        };
        request.identity = ExpectedIdentity::Accepted(presented);
        self.start(Command::Connect(request), false)
    }

    /// How the connection is protected, once known.
    pub fn security(&self) -> Option<&Security> {
        self.visit.security.as_ref()
    }

    /// Leaves the room (or stops connecting) for the welcome page.
    pub fn leave(&mut self, message: Option<String>) -> Vec<Effect> {
        let mut effects = vec![Effect::Send(Command::Leave { message })];
        self.end(&mut effects);
        effects
    }

    /// A chat line or command typed in the selected conversation (a line
    /// in a private one goes to that person); lines typed while
    /// reconnecting wait in the network thread's outbox. `/msg` opens the
    /// conversation it writes to.
    pub fn send(&mut self, command: Command) -> Vec<Effect> {
        if !self.phase.can_chat() {
            return Vec::new();
        }
        let mut effects = Vec::new();
        if matches!(
            command,
            Command::SendMessage { .. } | Command::SendAction { .. } | Command::SendPrivate { .. }
        ) {
            self.typing.sent();
        }
        let person = self.conversations.selected_person().map(str::to_owned);
        let command = match (command, person) {
            (Command::SendMessage { text }, Some(nick)) => Command::SendPrivate { nick, text },
            (Command::SendAction { to: None, text }, Some(nick)) => Command::SendAction {
                to: Some(nick),
                text,
            },
            (Command::SendPrivate { nick, text }, _) => {
                self.open_into(&nick, &mut effects);
                Command::SendPrivate { nick, text }
            }
            (command, _) => command,
        };
        if matches!(&command, Command::RawMode { args } if args.is_empty()) {
            // `/mode` alone: the room's settings as the model knows them
            // now; the server's 324 answer then refreshes them quietly.
            let entry = log_entry::room_settings_entry(&self.visit.room_modes);
            effects.push(Effect::Log(ConversationId::Room, entry));
        }
        effects.push(Effect::Send(command));
        effects
    }

    /// Begins (or shows) the private conversation with `nick`.
    pub fn open_private(&mut self, nick: &str) -> Vec<Effect> {
        let mut effects = Vec::new();
        if self.phase.shows_room() {
            self.open_into(nick, &mut effects);
            effects.push(Effect::FocusEntry);
        }
        effects
    }

    fn open_into(&mut self, nick: &str, effects: &mut Vec<Effect>) {
        let id = self.open_conversation(nick, effects);
        self.select_into(&id, effects);
    }

    /// Shows conversation `id`, which the person then reads.
    pub fn select(&mut self, id: &ConversationId) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.select_into(id, &mut effects);
        effects
    }

    fn select_into(&mut self, id: &ConversationId, effects: &mut Vec<Effect>) {
        if self.conversations.select(id) {
            self.read(effects);
        }
    }

    /// Ends the private conversation `id` (its log goes too).
    pub fn close_conversation(&mut self, id: &ConversationId) -> Vec<Effect> {
        let mut effects = Vec::new();
        if self.conversations.close(id) {
            effects.push(Effect::Withdraw(id.clone()));
            effects.push(Effect::DropConversation(id.clone()));
            self.read(&mut effects);
        }
        effects
    }

    /// The window became the one the person uses, or stopped being it.
    pub fn set_window_active(&mut self, active: bool) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.conversations.set_window_active(active);
        self.read(&mut effects);
        effects
    }

    pub fn set_notify_level(&mut self, level: NotifyLevel) {
        self.notify_level = level;
    }

    pub fn screen_reader(&self) -> bool {
        self.screen_reader
    }

    pub fn set_screen_reader(&mut self, running: bool) {
        self.screen_reader = running;
    }

    pub fn set_share_typing(&mut self, share: bool) {
        self.share_typing = share;
        if !share {
            self.typing.clear();
        }
    }

    /// The person typed (`empty`: the entry is empty again): tells the
    /// conversation, at most every few seconds, unless typing is private.
    pub fn composing(&mut self, empty: bool, now: Instant) -> Vec<Effect> {
        if !self.share_typing || self.phase != Phase::InRoom {
            return Vec::new();
        }
        let selected = self.conversations.selected().clone();
        let target = self
            .conversations
            .selected_person()
            .map_or_else(|| self.visit.room.clone(), str::to_owned);
        match self.typing.composing(&selected, empty, now) {
            Some(state) => vec![Effect::Send(Command::SendTyping { target, state })],
            None => Vec::new(),
        }
    }

    /// Forgets typing notices gone stale by `now`.
    pub fn expire_typing(&mut self, now: Instant) -> Vec<Effect> {
        self.typing.expire(now);
        Vec::new()
    }

    /// The selected conversation is being read: nothing in it is unread
    /// any more, and its notifications go.
    fn read(&mut self, effects: &mut Vec<Effect>) {
        if self.conversations.read_selected() {
            effects.push(Effect::Withdraw(self.conversations.selected().clone()));
        }
    }

    /// Skips the wait before the next connection attempt.
    pub fn reconnect_now(&mut self) -> Vec<Effect> {
        if !self.waiting_to_reconnect {
            return Vec::new();
        }
        vec![
            Effect::Send(Command::ReconnectNow),
            Effect::ShowReconnecting { delay_secs: 0 },
        ]
    }

    /// The network thread is gone (it could not start, or ended): say so
    /// instead of waiting for ever.
    pub fn network_unavailable(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        self.fail(Problem::network_unavailable(), false, &mut effects);
        effects
    }

    // ----- What the network says -------------------------------------------

    pub fn apply_all(&mut self, events: impl IntoIterator<Item = Event>) -> Vec<Effect> {
        let mut effects = Vec::new();
        for event in events {
            self.apply_into(event, &mut effects);
        }
        effects
    }

    pub fn apply(&mut self, event: Event) -> Vec<Effect> {
        self.apply_all([event])
    }

    fn apply_into(&mut self, event: Event, effects: &mut Vec<Effect>) {
        // The local network's rooms matter in every phase.
        let event = match event {
            Event::NearbyRoom(room) => return self.nearby.found(room),
            Event::NearbyRoomGone { instance } => return self.nearby.lost(&instance),
            event => event,
        };
        // After Leave, what the old session still says is of no interest.
        let listening = match self.phase {
            Phase::Welcome => false,
            Phase::Closed => matches!(event, Event::Disconnected { .. }),
            Phase::Connecting | Phase::InRoom | Phase::Reconnecting => true,
        };
        if !listening {
            return;
        }
        match event {
            // Said before `Connected` when we host.
            Event::Hosting {
                port,
                addresses,
                fingerprint,
            } => {
                self.visit.hosting = Some((port, addresses));
                self.set_own_fingerprint(fingerprint);
            }
            Event::HostFailed(error) => {
                self.fail(problem::for_host_error(&error), true, effects);
            }
            Event::Security(security) => {
                // Said at every connection; logged when it is news.
                if self.visit.security.as_ref() != Some(&security) {
                    let entry = log_entry::security(&security, self.is_hosting());
                    effects.push(Effect::Log(ConversationId::Room, entry));
                    self.visit.security = Some(security);
                }
            }
            Event::Connected { server, nick, room } => {
                self.connected(server, nick, room, effects);
            }
            Event::NickInUse { ref using, .. } => {
                self.visit.nick.clone_from(using);
                effects.push(Effect::Toast(gettext_f(
                    "That nickname is taken; you are {nick}",
                    &[("nick", using)],
                )));
                self.log(&event, effects);
            }
            Event::NickChanged {
                ref old,
                ref new,
                own,
            } => {
                self.members.rename(old, new);
                self.members_changed();
                if own {
                    self.visit.nick.clone_from(new);
                }
                self.follow_nick(old, new, effects);
                self.log(&event, effects);
            }
            Event::Joined { ref nick, .. } => {
                self.members.add(nick);
                self.members_changed();
                self.log(&event, effects);
            }
            Event::Parted { ref nick, .. } | Event::Kicked { ref nick, .. } => {
                self.typing.stopped(&ConversationId::Room, nick);
                self.members.remove(nick);
                self.members_changed();
                self.log(&event, effects);
            }
            Event::Quit { ref nick, .. } => {
                self.typing.gone(nick);
                self.members.remove(nick);
                self.members_changed();
                // Their private conversation learns it too.
                let theirs = ConversationId::with(nick);
                if self.conversations.get(&theirs).is_some() {
                    if let Some(entry) = log_entry::for_event(&event) {
                        effects.push(Effect::Log(theirs, entry));
                    }
                }
                self.log(&event, effects);
            }
            Event::Members {
                ref nicks,
                ref ranks,
                ..
            } => {
                self.members.replace(nicks);
                for (nick, rank) in ranks {
                    self.members.set_rank(nick, *rank);
                }
                self.members_changed();
            }
            Event::MemberRank { ref nick, rank, .. } => {
                if self.members.set_rank(nick, rank) {
                    self.members_changed();
                    self.log(&event, effects);
                }
            }
            Event::RoomModes { modes, by, .. } => {
                let before = std::mem::replace(&mut self.visit.room_modes, modes);
                // Someone's MODE line (not our asking): what it changed.
                if let Some(by) = by {
                    let modes = &self.visit.room_modes;
                    for change in super::room_details::changes(&before, modes) {
                        let entry = log_entry::room_mode_changed(&by, &change);
                        effects.push(Effect::Log(ConversationId::Room, entry));
                    }
                }
            }
            Event::Ban { .. } => self.log(&event, effects),

            Event::Message { .. } | Event::Action { .. } => {
                if history::first_sighting(&event, &mut self.seen) {
                    if let Some(entry) = log_entry::for_event(&event) {
                        if let Some(outbox_id) = entry.pending {
                            self.pending.add(outbox_id);
                        }
                        self.said(&event, entry, effects);
                    }
                }
            }
            Event::Delivered { outbox_id } => {
                if self.pending.deliver(outbox_id) {
                    effects.push(Effect::Delivered(outbox_id));
                }
            }
            Event::History { kind, lines, .. } => {
                let mut entries = history::entries(kind, &lines, &mut self.seen);
                if entries.is_empty() {
                    return;
                }
                for entry in &mut entries {
                    entry.mentions_you = self.names_us(entry);
                }
                match kind {
                    HistoryKind::Earlier => effects.push(Effect::LogEarlier(entries)),
                    HistoryKind::Missed => effects.extend(
                        entries
                            .into_iter()
                            .map(|entry| Effect::Log(ConversationId::Room, entry)),
                    ),
                }
            }
            Event::Topic {
                ref room,
                ref topic,
                ..
            } => {
                if fold_case(room) == fold_case(&self.visit.room) {
                    self.visit.topic.clone_from(topic);
                }
                self.log(&event, effects)
            }
            // Answers to what the person just did, where they did it.
            Event::Invited { ref nick, .. } => effects.push(Effect::Toast(gettext_f(
                "Invitation sent to {nick}",
                &[("nick", nick)],
            ))),
            Event::Notice { .. } | Event::ServerError { .. } | Event::Whois(_) => {
                if let Some(entry) = log_entry::for_event(&event) {
                    let here = self.conversations.selected().clone();
                    effects.push(Effect::Log(here, entry));
                }
            }
            Event::Reconnecting {
                reason, delay_secs, ..
            } => self.reconnecting(&reason, delay_secs, effects),
            Event::HistoryCleared { error } => effects.push(Effect::Toast(match error {
                None => gettext("The room’s history is cleared"),
                Some(error) => gettext_f(
                    "The room’s history could not be cleared: {error}",
                    &[("error", &error)],
                ),
            })),
            Event::Disconnected { reason } => self.disconnected(&reason, effects),
            // Presence: the window shows away and typing later.
            Event::Typing {
                nick,
                target,
                state,
            } => {
                if !self.share_typing {
                    return;
                }
                let conversation = if is_channel_name(&target) {
                    ConversationId::Room
                } else {
                    ConversationId::with(&nick)
                };
                // Typing alone does not begin a private conversation.
                if self.conversations.get(&conversation).is_some() {
                    self.typing
                        .update(conversation, &nick, state, Instant::now());
                }
            }
            Event::Away {
                nick,
                presence,
                own,
            } => self.presence(&nick, &presence, own, effects),
            Event::NearbyRoom(_) | Event::NearbyRoomGone { .. } => {}
        }
    }

    fn connected(&mut self, server: String, nick: String, room: String, effects: &mut Vec<Effect>) {
        let back = self.joined_once;
        self.visit.server = server;
        self.visit.nick = nick;
        self.conversations.set_room_title(&room);
        self.visit.room = room;
        self.phase = Phase::InRoom;
        self.joined_once = true;
        self.waiting_to_reconnect = false;
        effects.push(Effect::DismissBanner);
        if back {
            effects.push(Effect::Log(ConversationId::Room, log_entry::reconnected()));
            return;
        }
        effects.push(Effect::FocusEntry);
        effects.push(Effect::MarkSessionStart);
        let visit = &self.visit;
        let opening = match &visit.hosting {
            Some((port, addresses)) => {
                log_entry::hosting(&visit.room, &visit.nick, *port, addresses)
            }
            None => log_entry::joined(&visit.room, &visit.server, &visit.nick),
        };
        effects.push(Effect::Log(ConversationId::Room, opening));
    }

    fn reconnecting(
        &mut self,
        reason: &DisconnectReason,
        delay_secs: u64,
        effects: &mut Vec<Effect>,
    ) {
        // One line per outage, not one per attempt.
        if self.phase == Phase::InRoom {
            self.phase = Phase::Reconnecting;
            let line = problem::outage(reason, &self.visit.server_or_target());
            effects.push(Effect::Log(ConversationId::Room, LogEntry::error(line)));
        }
        self.waiting_to_reconnect = true;
        effects.push(Effect::ShowReconnecting { delay_secs });
    }

    fn disconnected(&mut self, reason: &DisconnectReason, effects: &mut Vec<Effect>) {
        if *reason == DisconnectReason::Left {
            // Connecting or Closed: the end of an older session, already left.
            if self.phase.can_chat() {
                self.end(effects);
            }
            return;
        }
        if let DisconnectReason::IdentityChanged { presented, .. } = reason {
            self.visit.changed_identity = Some(*presented);
        }
        // Whatever protected the last connection protects nothing now.
        self.visit.security = None;
        if let Some(problem) = problem::for_disconnect(reason, &self.visit.server_or_target()) {
            self.fail(problem, true, effects);
        }
    }

    /// Shows `problem`, keeps the log readable if there was a room, and
    /// (when `close_host`) makes sure our host, if any, is closed too.
    fn fail(&mut self, problem: Problem, close_host: bool, effects: &mut Vec<Effect>) {
        let was_hosting = self.visit.hosting.take().is_some();
        self.set_own_fingerprint(None);
        self.waiting_to_reconnect = false;
        self.phase = if self.phase.shows_room() {
            effects.push(Effect::Log(
                ConversationId::Room,
                LogEntry::error(problem.message.clone()),
            ));
            Phase::Closed
        } else {
            Phase::Welcome
        };
        effects.push(Effect::ShowProblem(problem));
        if was_hosting && close_host {
            effects.push(Effect::Send(Command::Leave { message: None }));
        }
    }

    /// Our host's certificate, also for telling its own announcement from
    /// the others'.
    fn set_own_fingerprint(&mut self, fingerprint: Option<Fingerprint>) {
        self.visit.own_fingerprint = fingerprint;
        self.nearby.set_own_fingerprint(fingerprint);
    }

    /// Back to the welcome page with nothing left over.
    fn end(&mut self, effects: &mut Vec<Effect>) {
        let visit = Visit {
            request: self.visit.request.take(),
            ..Visit::default()
        };
        self.reset(Phase::Welcome, visit, true, effects);
    }

    /// The one way to forget a session: every start and every end comes
    /// through here, so nothing of the old room is left over.
    fn reset(&mut self, phase: Phase, visit: Visit, fresh_log: bool, effects: &mut Vec<Effect>) {
        for conversation in self.conversations.list() {
            effects.push(Effect::Withdraw(conversation.id.clone()));
        }
        self.phase = phase;
        self.visit = visit;
        self.nearby.set_own_fingerprint(self.visit.own_fingerprint);
        self.members.clear();
        self.members_changed();
        self.typing.clear();
        self.pending.clear();
        self.joined_once = false;
        self.waiting_to_reconnect = false;
        if fresh_log {
            self.seen.clear();
            self.conversations.reset(&self.visit.room);
            effects.push(Effect::ClearLog);
        } else {
            self.conversations.set_room_title(&self.visit.room);
        }
        effects.push(Effect::DismissBanner);
    }

    /// A line for the room's log.
    fn log(&self, event: &Event, effects: &mut Vec<Effect>) {
        if let Some(entry) = log_entry::for_event(event) {
            effects.push(Effect::Log(ConversationId::Room, entry));
        }
    }

    /// Someone (or we, `own`) went away or came back: the member list
    /// shows it; a private conversation with them and our own change say
    /// so in the log.
    fn presence(&mut self, nick: &str, presence: &Presence, own: bool, effects: &mut Vec<Effect>) {
        if own {
            let line = match presence {
                Presence::Away {
                    reason: Some(reason),
                } if !reason.trim().is_empty() => {
                    gettext_f("You are away: {reason}", &[("reason", reason)])
                }
                Presence::Away { .. } => gettext("You are away"),
                Presence::Here => gettext("You are back"),
            };
            effects.push(Effect::Log(ConversationId::Room, LogEntry::system(line)));
            return;
        }
        if !self.members.set_presence(nick, presence) {
            return;
        }
        self.members_changed();
        let theirs = ConversationId::with(nick);
        if self.conversations.get(&theirs).is_none() {
            return;
        }
        let line = match presence {
            Presence::Away {
                reason: Some(reason),
            } if !reason.trim().is_empty() => gettext_f(
                "{nick} is away: {reason}",
                &[("nick", nick), ("reason", reason)],
            ),
            Presence::Away { .. } => gettext_f("{nick} is away", &[("nick", nick)]),
            Presence::Here => gettext_f("{nick} is back", &[("nick", nick)]),
        };
        effects.push(Effect::Log(theirs, LogEntry::system(line)));
    }

    /// A chat line or action, logged in its conversation (the room, or
    /// the private one with that person), counted as unread there if the
    /// person is not reading it, and notified if it deserves it.
    fn said(&mut self, event: &Event, mut entry: LogEntry, effects: &mut Vec<Effect>) {
        let (from, target, text, own, private) = match event {
            Event::Message {
                from,
                target,
                text,
                own,
                private,
                ..
            } => (from, target, text, *own, *private),
            Event::Action {
                from,
                target,
                text,
                own,
                ..
            } => (from, target, text, *own, !is_channel_name(target)),
            _ => return,
        };
        let conversation = if private {
            let person = if own { target } else { from };
            self.open_conversation(person, effects)
        } else {
            ConversationId::Room
        };
        entry.mentions_you = self.names_us(&entry);
        self.typing.stopped(&conversation, from);
        if own {
            effects.push(Effect::Log(conversation, entry));
            return;
        }
        let for_you = private || entry.mentions_you;
        if self
            .conversations
            .arrive(&conversation, Arrival { for_you })
        {
            effects.push(Effect::Log(
                conversation.clone(),
                LogEntry::unread_divider(),
            ));
        }
        effects.push(Effect::Log(conversation.clone(), entry));
        // GTK 4.8 cannot have a screen reader say a line as it arrives: while
        // one runs, what is meant for the person notifies in the focused
        // window too (screen readers read notifications out).
        let told_anyway = self.screen_reader && for_you;
        if (!self.conversations.window_active() || told_anyway) && self.notify_level.allows(for_you)
        {
            // Withdrawn when next read, like those of unread lines.
            self.conversations.notified(&conversation);
            let place = match &conversation {
                ConversationId::Room => self.visit.room.as_str(),
                _ => from.as_str(),
            };
            let text = log_entry::plain_text(text);
            effects.push(Effect::Notify(Alert::new(conversation, place, from, &text)));
        }
    }

    /// A room line by someone else that names us.
    fn names_us(&self, entry: &LogEntry) -> bool {
        entry.is_said_by_others() && mention::names(&entry.text, &self.visit.nick)
    }

    /// The conversation with `nick`, begun if new (which may end the
    /// oldest quiet one, when there are too many).
    fn open_conversation(&mut self, nick: &str, effects: &mut Vec<Effect>) -> ConversationId {
        let (id, dropped) = self.conversations.open(nick);
        if let Some(dropped) = dropped {
            effects.push(Effect::Withdraw(dropped.clone()));
            effects.push(Effect::DropConversation(dropped));
        }
        id
    }

    /// `old` is now `new`: their private conversation follows, and says so.
    fn follow_nick(&mut self, old: &str, new: &str, effects: &mut Vec<Effect>) {
        let from = ConversationId::with(old);
        let Some(to) = self.conversations.rename(old, new) else {
            return;
        };
        if to != from {
            effects.push(Effect::Withdraw(from.clone()));
            effects.push(Effect::RenameConversation {
                from,
                to: to.clone(),
            });
        }
        effects.push(Effect::Log(
            to,
            LogEntry::system(gettext_f(
                "{old} is now known as {new}",
                &[("old", old), ("new", new)],
            )),
        ));
    }

    fn members_changed(&mut self) {
        self.members_revision = self.members_revision.wrapping_add(1);
    }
}

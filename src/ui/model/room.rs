//! The reducer: the room's state, changed only by network events and the
//! person's actions, each answering with the [`Effect`]s the window carries
//! out.

use super::header::{self, Header};
use super::{history, Effect, Members, PendingLines, Phase, SeenIds, Visit};
use crate::api::{Command, DisconnectReason, Event, HistoryKind};
use crate::i18n::{gettext, gettext_f};
use crate::ui::log_entry::{self, LogEntry};
use crate::ui::problem::{self, Problem};

#[derive(Debug, Default)]
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
        header::header(self.phase, &self.visit)
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

    /// Leaves the room (or stops connecting) for the welcome page.
    pub fn leave(&mut self, message: Option<String>) -> Vec<Effect> {
        let mut effects = vec![Effect::Send(Command::Leave { message })];
        self.end(&mut effects);
        effects
    }

    /// A chat line or command for the room; lines typed while reconnecting
    /// wait in the network thread's outbox.
    pub fn send(&mut self, command: Command) -> Vec<Effect> {
        if !self.phase.can_chat() {
            return Vec::new();
        }
        vec![Effect::Send(command)]
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
            Event::Hosting { port, addresses } => {
                self.visit.hosting = Some((port, addresses));
            }
            Event::HostFailed(error) => {
                self.fail(problem::for_host_error(&error), true, effects);
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
                log(&event, effects);
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
                log(&event, effects);
            }
            Event::Joined { ref nick, .. } => {
                self.members.add(nick);
                self.members_changed();
                log(&event, effects);
            }
            Event::Parted { ref nick, .. } | Event::Quit { ref nick, .. } => {
                self.members.remove(nick);
                self.members_changed();
                log(&event, effects);
            }
            Event::Members { ref nicks, .. } => {
                self.members.replace(nicks);
                self.members_changed();
            }
            Event::Message { .. } | Event::Action { .. } => {
                if history::first_sighting(&event, &mut self.seen) {
                    if let Some(entry) = log_entry::for_event(&event) {
                        if let Some(outbox_id) = entry.pending {
                            self.pending.add(outbox_id);
                        }
                        effects.push(Effect::Log(entry));
                    }
                }
            }
            Event::Delivered { outbox_id } => {
                if self.pending.deliver(outbox_id) {
                    effects.push(Effect::Delivered(outbox_id));
                }
            }
            Event::History { kind, lines, .. } => {
                let entries = history::entries(kind, &lines, &mut self.seen);
                if entries.is_empty() {
                    return;
                }
                match kind {
                    HistoryKind::Earlier => effects.push(Effect::LogEarlier(entries)),
                    HistoryKind::Missed => effects.extend(entries.into_iter().map(Effect::Log)),
                }
            }
            Event::Notice { .. } | Event::Topic { .. } | Event::ServerError { .. } => {
                log(&event, effects);
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
        }
    }

    fn connected(&mut self, server: String, nick: String, room: String, effects: &mut Vec<Effect>) {
        let back = self.joined_once;
        self.visit.server = server;
        self.visit.nick = nick;
        self.visit.room = room;
        self.phase = Phase::InRoom;
        self.joined_once = true;
        self.waiting_to_reconnect = false;
        effects.push(Effect::DismissBanner);
        if back {
            effects.push(Effect::Log(log_entry::reconnected()));
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
        effects.push(Effect::Log(opening));
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
            effects.push(Effect::Log(LogEntry::error(line)));
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
        if let Some(problem) = problem::for_disconnect(reason, &self.visit.target()) {
            self.fail(problem, true, effects);
        }
    }

    /// Shows `problem`, keeps the log readable if there was a room, and
    /// (when `close_host`) makes sure our host, if any, is closed too.
    fn fail(&mut self, problem: Problem, close_host: bool, effects: &mut Vec<Effect>) {
        let was_hosting = self.visit.hosting.take().is_some();
        self.waiting_to_reconnect = false;
        self.phase = if self.phase.shows_room() {
            effects.push(Effect::Log(LogEntry::error(problem.message.clone())));
            Phase::Closed
        } else {
            Phase::Welcome
        };
        effects.push(Effect::ShowProblem(problem));
        if was_hosting && close_host {
            effects.push(Effect::Send(Command::Leave { message: None }));
        }
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
        self.phase = phase;
        self.visit = visit;
        self.members.clear();
        self.members_changed();
        self.pending.clear();
        self.joined_once = false;
        self.waiting_to_reconnect = false;
        if fresh_log {
            self.seen.clear();
            effects.push(Effect::ClearLog);
        }
        effects.push(Effect::DismissBanner);
    }

    fn members_changed(&mut self) {
        self.members_revision = self.members_revision.wrapping_add(1);
    }
}

fn log(event: &Event, effects: &mut Vec<Effect>) {
    if let Some(entry) = log_entry::for_event(event) {
        effects.push(Effect::Log(entry));
    }
}

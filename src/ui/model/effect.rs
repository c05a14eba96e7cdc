//! What the room asks of the window after an event or an action: each a
//! thing to do once. Lasting state (phase, header, members) the window
//! reads from the model instead.

use super::{Alert, ConversationId};
use crate::api::Command;
use crate::ui::log_entry::LogEntry;
use crate::ui::problem::Problem;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Hand this to the network thread.
    Send(Command),
    /// A line at the end of a conversation's log.
    Log(ConversationId, LogEntry),
    /// The next logged line opens the session: earlier history goes above it.
    MarkSessionStart,
    /// Lines said in the room before we joined, placed above the line that
    /// opened the session (at the end if there is none).
    LogEarlier(Vec<LogEntry>),
    /// Our line with this outbox id reached the room: show it as sent.
    Delivered(u64),
    /// Start over: an empty room log and no private conversations.
    ClearLog,
    /// A private conversation ended: its log goes.
    DropConversation(ConversationId),
    /// A private conversation follows its person to a new nick.
    RenameConversation {
        from: ConversationId,
        to: ConversationId,
    },
    /// Show (or update) a desktop notification.
    Notify(Alert),
    /// The person read this conversation: its notifications go.
    Withdraw(ConversationId),
    /// Show this problem in the banner.
    ShowProblem(Problem),
    /// The banner counts down to the next attempt (0: trying now) and
    /// offers to reconnect now.
    ShowReconnecting {
        delay_secs: u64,
    },
    DismissBanner,
    Toast(String),
    FocusEntry,
}

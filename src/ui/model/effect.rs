//! What the room asks of the window after an event or an action: each a
//! thing to do once. Lasting state (phase, header, members) the window
//! reads from the model instead.

use crate::api::Command;
use crate::ui::log_entry::LogEntry;
use crate::ui::problem::Problem;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Hand this to the network thread.
    Send(Command),
    /// A line at the end of the log.
    Log(LogEntry),
    /// The next logged line opens the session: earlier history goes above it.
    MarkSessionStart,
    /// Lines said before we joined, placed above the line that opened the
    /// session (at the end if there is none).
    LogEarlier(Vec<LogEntry>),
    /// Our line with this outbox id reached the room: show it as sent.
    Delivered(u64),
    /// Start an empty log.
    ClearLog,
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

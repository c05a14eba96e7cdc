//! Earlier lines (`Event::History`) as log lines, each shown once.

use super::SeenIds;
use crate::api::{Event, HistoryKind, LineMeta};
use crate::ui::log_entry::{self, LogEntry};

/// The log lines for a history's `lines`, headed by their divider; empty
/// when every line was already shown.
pub fn entries(kind: HistoryKind, lines: &[Event], seen: &mut SeenIds) -> Vec<LogEntry> {
    let mut entries: Vec<LogEntry> = lines
        .iter()
        .filter(|line| is_chat(line) && first_sighting(line, seen))
        .filter_map(log_entry::for_event)
        .map(|mut entry| {
            // Said before now: never waiting to be sent.
            entry.pending = None;
            entry.earlier = kind == HistoryKind::Earlier;
            entry
        })
        .collect();
    if entries.is_empty() {
        return entries;
    }
    let divider = match kind {
        HistoryKind::Earlier => log_entry::earlier_divider(),
        HistoryKind::Missed => log_entry::missed_divider(),
    };
    entries.insert(0, divider);
    entries
}

/// Only what people said belongs in history (see `Event::History`).
fn is_chat(line: &Event) -> bool {
    matches!(
        line,
        Event::Message { .. } | Event::Action { .. } | Event::Topic { .. }
    )
}

/// Records the line's msgid; false when it was shown before. Lines
/// without an id cannot be matched, so they always show.
pub fn first_sighting(line: &Event, seen: &mut SeenIds) -> bool {
    match meta(line).and_then(|meta| meta.msgid.as_deref()) {
        Some(msgid) => seen.insert(msgid),
        None => true,
    }
}

fn meta(line: &Event) -> Option<&LineMeta> {
    match line {
        Event::Message { meta, .. } | Event::Action { meta, .. } => Some(meta),
        _ => None,
    }
}

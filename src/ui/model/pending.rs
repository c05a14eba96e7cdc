//! The outbox as the log sees it: which of our own lines are shown as
//! still on their way.

use std::collections::HashSet;

#[derive(Debug, Default)]
pub struct PendingLines {
    ids: HashSet<u64>,
}

impl PendingLines {
    pub fn add(&mut self, outbox_id: u64) {
        self.ids.insert(outbox_id);
    }

    /// Whether a shown line waited for `outbox_id` (and now no longer does).
    pub fn deliver(&mut self, outbox_id: u64) -> bool {
        self.ids.remove(&outbox_id)
    }

    pub fn contains(&self, outbox_id: u64) -> bool {
        self.ids.contains(&outbox_id)
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn clear(&mut self) {
        self.ids.clear();
    }
}

//! The message ids already shown, so history that overlaps what we saw
//! live (or an earlier history) shows each line once.

use std::collections::{HashSet, VecDeque};

/// How many ids are remembered: far more than one history fetch brings,
/// little memory.
pub const SEEN_CAPACITY: usize = 10_000;

/// A bounded set: once full, the oldest id is forgotten first.
#[derive(Debug)]
pub struct SeenIds {
    set: HashSet<String>,
    order: VecDeque<String>,
    capacity: usize,
}

impl Default for SeenIds {
    fn default() -> Self {
        SeenIds::with_capacity(SEEN_CAPACITY)
    }
}

impl SeenIds {
    pub fn with_capacity(capacity: usize) -> Self {
        SeenIds {
            set: HashSet::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// Records `id`; false when it was already seen.
    pub fn insert(&mut self, id: &str) -> bool {
        if self.set.contains(id) {
            return false;
        }
        if self.order.len() == self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.set.remove(&oldest);
            }
        }
        self.set.insert(id.to_owned());
        self.order.push_back(id.to_owned());
        true
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    pub fn clear(&mut self) {
        self.set.clear();
        self.order.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_id_once_and_the_oldest_forgotten_first() {
        let mut seen = SeenIds::with_capacity(2);
        assert!(seen.insert("a"));
        assert!(!seen.insert("a"));
        assert!(seen.insert("b"));
        assert!(seen.insert("c"));
        assert_eq!(seen.len(), 2);
        assert!(seen.insert("a"), "a was forgotten to make room");
        assert!(!seen.insert("c"));
    }
}

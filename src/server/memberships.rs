//! The channels one client is in, as a sorted vector of folded names.
//!
//! Most clients are in one channel or a few. A `BTreeSet` would give each
//! of them a whole B-tree node (room for 11 names, about 280 bytes) from
//! their first join; with thousands of idle clients that node was a tenth
//! of what each one cost the host. A sorted vector holds just the names
//! and still lists them in the same order.

/// Folded channel names, sorted, each once.
#[derive(Debug, Default)]
pub(super) struct Memberships(Vec<String>);

impl Memberships {
    pub fn contains(&self, folded: &str) -> bool {
        self.position(folded).is_ok()
    }

    /// Adds `folded` unless it is there already.
    pub fn insert(&mut self, folded: String) {
        if let Err(at) = self.position(&folded) {
            // One more at a time: a `Vec` would make room for four at once,
            // and most clients are in one channel.
            self.0.reserve_exact(1);
            self.0.insert(at, folded);
        }
    }

    pub fn remove(&mut self, folded: &str) {
        if let Ok(at) = self.position(folded) {
            self.0.remove(at);
        }
        if self.0.is_empty() {
            // The last part of a busy client: give the room back.
            self.0 = Vec::new();
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &String> {
        self.0.iter()
    }

    fn position(&self, folded: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|name| name.as_str().cmp(folded))
    }
}

impl<'a> IntoIterator for &'a Memberships {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_sorted_and_single() {
        let mut channels = Memberships::default();
        for name in ["#b", "#a", "#c", "#a"] {
            channels.insert(name.to_owned());
        }
        assert_eq!(channels.iter().collect::<Vec<_>>(), ["#a", "#b", "#c"]);
        assert!(channels.contains("#b"));
        channels.remove("#b");
        channels.remove("#missing");
        assert!(!channels.contains("#b"));
        assert_eq!(channels.len(), 2);
        channels.remove("#a");
        channels.remove("#c");
        assert_eq!(channels.len(), 0);
        assert_eq!(channels.0.capacity(), 0);
    }
}

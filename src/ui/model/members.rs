//! Who is in the room, kept as events arrive. GTK-free; the member list
//! widget shows [`Members::sorted`] once per batch of events.

use std::collections::HashMap;

use crate::protocol::fold_case;

#[derive(Debug, Default)]
pub struct Members {
    /// Folded nick → the nick as its owner spells it.
    by_folded: HashMap<String, String>,
}

impl Members {
    pub fn replace(&mut self, nicks: &[String]) {
        self.by_folded = nicks
            .iter()
            .map(|nick| (fold_case(nick), nick.clone()))
            .collect();
    }

    pub fn add(&mut self, nick: &str) {
        self.by_folded.insert(fold_case(nick), nick.to_owned());
    }

    pub fn remove(&mut self, nick: &str) {
        self.by_folded.remove(&fold_case(nick));
    }

    /// A nick change keeps the person in the list even if we missed their join.
    pub fn rename(&mut self, old: &str, new: &str) {
        self.remove(old);
        self.add(new);
    }

    pub fn clear(&mut self) {
        self.by_folded.clear();
    }

    pub fn len(&self) -> usize {
        self.by_folded.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_folded.is_empty()
    }

    /// Alphabetical, ignoring letter case.
    pub fn sorted(&self) -> Vec<String> {
        let mut entries: Vec<(&String, &String)> = self.by_folded.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0).then_with(|| a.1.cmp(b.1)));
        entries.into_iter().map(|(_, nick)| nick.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_joins_parts_and_renames() {
        let mut members = Members::default();
        members.replace(&["bob".into(), "Alice".into()]);
        members.add("carol");
        members.add("BOB");
        members.remove("alice");
        members.rename("carol", "Caroline");
        members.rename("ghost", "dave");
        assert_eq!(members.sorted(), ["BOB", "Caroline", "dave"]);
        assert_eq!(members.len(), 3);
        members.clear();
        assert!(members.is_empty());
    }
}

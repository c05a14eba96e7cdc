//! Who is in the room and who of them is away, kept as events arrive.
//! GTK-free; the member list widget shows [`Members::sorted_with_presence`]
//! once per batch of events.

use std::collections::HashMap;

use crate::api::Presence;
use crate::protocol::fold_case;

#[derive(Debug, Default)]
pub struct Members {
    /// Folded nick → the nick as its owner spells it.
    by_folded: HashMap<String, String>,
    /// Folded nick → why they are away (when told), for members away.
    away: HashMap<String, Option<String>>,
}

impl Members {
    pub fn replace(&mut self, nicks: &[String]) {
        self.by_folded = nicks
            .iter()
            .map(|nick| (fold_case(nick), nick.clone()))
            .collect();
        let by_folded = &self.by_folded;
        self.away.retain(|folded, _| by_folded.contains_key(folded));
    }

    pub fn add(&mut self, nick: &str) {
        self.by_folded.insert(fold_case(nick), nick.to_owned());
    }

    pub fn remove(&mut self, nick: &str) {
        let folded = fold_case(nick);
        self.by_folded.remove(&folded);
        self.away.remove(&folded);
    }

    /// A nick change keeps the person in the list even if we missed their
    /// join, and keeps them away if they were.
    pub fn rename(&mut self, old: &str, new: &str) {
        let away = self.away.remove(&fold_case(old));
        self.remove(old);
        self.add(new);
        if let Some(reason) = away {
            self.away.insert(fold_case(new), reason);
        }
    }

    /// Records `nick`'s presence; true when it changed what we knew. An
    /// away without a reason (a WHO flag) keeps a reason already known.
    pub fn set_presence(&mut self, nick: &str, presence: &Presence) -> bool {
        let folded = fold_case(nick);
        match presence {
            Presence::Here => self.away.remove(&folded).is_some(),
            Presence::Away { reason } => {
                let known = self.away.get(&folded);
                let reason = match (reason, known) {
                    (None, Some(Some(known))) => Some(known.clone()),
                    (reason, _) => reason.clone(),
                };
                if known == Some(&reason) {
                    return false;
                }
                self.away.insert(folded, reason);
                true
            }
        }
    }

    pub fn presence(&self, nick: &str) -> Presence {
        match self.away.get(&fold_case(nick)) {
            Some(reason) => Presence::Away {
                reason: reason.clone(),
            },
            None => Presence::Here,
        }
    }

    pub fn clear(&mut self) {
        self.by_folded.clear();
        self.away.clear();
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

    /// [`Self::sorted`], each with their presence.
    pub fn sorted_with_presence(&self) -> Vec<(String, Presence)> {
        self.sorted()
            .into_iter()
            .map(|nick| {
                let presence = self.presence(&nick);
                (nick, presence)
            })
            .collect()
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

    #[test]
    fn away_follows_the_member() {
        let mut members = Members::default();
        members.replace(&["bob".into(), "carol".into()]);
        let lunch = Presence::Away {
            reason: Some("lunch".into()),
        };
        assert!(members.set_presence("Bob", &lunch));
        assert!(!members.set_presence("bob", &lunch), "no change");
        // A WHO flag without a reason keeps the reason we know.
        assert!(!members.set_presence("bob", &Presence::Away { reason: None }));
        members.rename("bob", "robert");
        assert_eq!(members.presence("robert"), lunch);
        assert_eq!(members.presence("bob"), Presence::Here);
        assert!(members.set_presence("robert", &Presence::Here));
        assert!(!members.set_presence("robert", &Presence::Here));
        members.set_presence("carol", &lunch);
        members.remove("carol");
        members.add("carol");
        assert_eq!(members.presence("carol"), Presence::Here, "gone and back");
    }
}

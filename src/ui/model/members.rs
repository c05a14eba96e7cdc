//! Who is in the room, their rank, and who of them is away, kept as events
//! arrive. GTK-free; the member list widget shows [`Members::rows`] once per
//! batch of events.

use std::collections::HashMap;

use crate::api::{Presence, Rank};
use crate::protocol::fold_case;

#[derive(Debug, Default)]
pub struct Members {
    /// Folded nick → the nick as its owner spells it.
    by_folded: HashMap<String, String>,
    /// Folded nick → why they are away (when told), for members away.
    away: HashMap<String, Option<String>>,
    /// Folded nick → rank, for members above [`Rank::Member`].
    ranks: HashMap<String, Rank>,
}

/// One member as the list shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    pub nick: String,
    pub rank: Rank,
    pub presence: Presence,
}

impl Members {
    pub fn replace(&mut self, nicks: &[String]) {
        self.by_folded = nicks
            .iter()
            .map(|nick| (fold_case(nick), nick.clone()))
            .collect();
        let by_folded = &self.by_folded;
        self.away.retain(|folded, _| by_folded.contains_key(folded));
        self.ranks.clear();
    }

    /// Records `nick`'s rank; true when it changed what we knew.
    pub fn set_rank(&mut self, nick: &str, rank: Rank) -> bool {
        let folded = fold_case(nick);
        let old = if rank == Rank::Member {
            self.ranks.remove(&folded)
        } else {
            self.ranks.insert(folded, rank)
        };
        old.unwrap_or_default() != rank
    }

    pub fn rank(&self, nick: &str) -> Rank {
        self.ranks
            .get(&fold_case(nick))
            .copied()
            .unwrap_or_default()
    }

    pub fn add(&mut self, nick: &str) {
        self.by_folded.insert(fold_case(nick), nick.to_owned());
    }

    pub fn remove(&mut self, nick: &str) {
        let folded = fold_case(nick);
        self.by_folded.remove(&folded);
        self.away.remove(&folded);
        self.ranks.remove(&folded);
    }

    /// A nick change keeps the person in the list even if we missed their
    /// join, and keeps them away if they were.
    pub fn rename(&mut self, old: &str, new: &str) {
        let away = self.away.remove(&fold_case(old));
        let rank = self.rank(old);
        self.remove(old);
        self.add(new);
        if let Some(reason) = away {
            self.away.insert(fold_case(new), reason);
        }
        self.set_rank(new, rank);
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
        self.ranks.clear();
    }

    pub fn len(&self) -> usize {
        self.by_folded.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_folded.is_empty()
    }

    /// Highest rank first (operators on top, as other clients list them),
    /// then alphabetical, ignoring letter case.
    pub fn sorted(&self) -> Vec<String> {
        let mut entries: Vec<(Rank, &String, &String)> = self
            .by_folded
            .iter()
            .map(|(folded, nick)| {
                (
                    self.ranks.get(folded).copied().unwrap_or_default(),
                    folded,
                    nick,
                )
            })
            .collect();
        entries.sort_unstable_by(|a, b| {
            b.0.cmp(&a.0)
                .then_with(|| a.1.cmp(b.1))
                .then_with(|| a.2.cmp(b.2))
        });
        entries
            .into_iter()
            .map(|(_, _, nick)| nick.clone())
            .collect()
    }

    /// [`Self::sorted`], each with their rank and presence.
    pub fn rows(&self) -> Vec<MemberRow> {
        self.sorted()
            .into_iter()
            .map(|nick| MemberRow {
                rank: self.rank(&nick),
                presence: self.presence(&nick),
                nick,
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
    fn operators_sort_first_and_ranks_follow_renames() {
        let mut members = Members::default();
        members.replace(&["bob".into(), "Alice".into(), "carol".into(), "dan".into()]);
        assert!(members.set_rank("carol", Rank::Operator));
        assert!(!members.set_rank("Carol", Rank::Operator), "no change");
        members.set_rank("dan", Rank::Voiced);
        assert_eq!(members.sorted(), ["carol", "dan", "Alice", "bob"]);
        members.rename("carol", "caz");
        assert_eq!(members.rank("caz"), Rank::Operator);
        assert!(members.set_rank("caz", Rank::Member));
        assert_eq!(members.sorted(), ["dan", "Alice", "bob", "caz"]);
        members.replace(&["dan".into()]);
        assert_eq!(members.rank("dan"), Rank::Member, "a new list, new ranks");
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

//! Who holds which membership mode in our room, and the room's own modes,
//! kept from NAMES, 324 and MODE lines as the server's ISUPPORT says to
//! read them ([`ModeKinds`]).

use std::collections::HashMap;

use crate::api::{Rank, RoomModes};
use crate::protocol::{fold_case, ModeKinds};

/// Members whose modes are tracked: beyond this, a host is trying to use
/// up our memory (the NAMES cap ends the session before it matters).
const MAX_TRACKED: usize = 100_000;

#[derive(Debug, Default)]
pub struct ModeBook {
    kinds: ModeKinds,
    /// Folded nick → membership modes held, for members holding any.
    held: HashMap<String, Vec<char>>,
    room: RoomModes,
}

/// What a MODE line changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changed {
    /// Members whose rank changed, with the new one.
    pub ranks: Vec<(String, Rank)>,
    /// Whether the room's own modes changed.
    pub room: bool,
    /// Bans set (true) or lifted (false), by mask: list modes the book
    /// does not keep, only passes on.
    pub bans: Vec<(String, bool)>,
}

impl ModeBook {
    /// Takes in one ISUPPORT token (`CHANMODES=…`, `PREFIX=…`; others are
    /// not ours).
    pub fn isupport(&mut self, token: &str) {
        if let Some(value) = token.strip_prefix("CHANMODES=") {
            self.kinds.read_chanmodes(value);
        } else if let Some(value) = token.strip_prefix("PREFIX=") {
            self.kinds.read_prefix(value);
        }
    }

    /// A NAMES entry's nick (without a userhost-in-names `!user@host`) and
    /// the membership modes its prefixes stand for.
    pub fn names_entry<'a>(&self, entry: &'a str) -> (&'a str, Vec<char>) {
        let (modes, rest) = self.kinds.split_names_entry(entry);
        let nick = rest.split('!').next().unwrap_or(rest);
        (nick, modes)
    }

    /// A fresh member list: who holds what, as NAMES told; returns the
    /// ranks above [`Rank::Member`].
    pub fn replace_members(&mut self, members: Vec<(String, Vec<char>)>) -> Vec<(String, Rank)> {
        self.held.clear();
        let mut ranks = Vec::new();
        for (nick, modes) in members.into_iter().filter(|(_, m)| !m.is_empty()) {
            ranks.push((nick.clone(), Rank::of_modes(&modes)));
            self.held.insert(fold_case(&nick), modes);
        }
        ranks.retain(|(_, rank)| *rank > Rank::Member);
        ranks
    }

    pub fn left(&mut self, nick: &str) {
        self.held.remove(&fold_case(nick));
    }

    pub fn renamed(&mut self, old: &str, new: &str) {
        if let Some(modes) = self.held.remove(&fold_case(old)) {
            self.held.insert(fold_case(new), modes);
        }
    }

    pub fn rank(&self, nick: &str) -> Rank {
        self.held
            .get(&fold_case(nick))
            .map_or(Rank::Member, |modes| Rank::of_modes(modes))
    }

    pub fn room(&self) -> &RoomModes {
        &self.room
    }

    /// A 324 reply: the room's modes as they are now.
    pub fn room_modes_are(&mut self, modes: &str, args: &[&str]) {
        self.room = RoomModes::default();
        self.apply(modes, args);
    }

    /// A MODE line on our room.
    pub fn apply(&mut self, modes: &str, args: &[&str]) -> Changed {
        let mut changed = Changed::default();
        let before = self.room.clone();
        for change in self.kinds.parse(modes, args) {
            let on = change.adding;
            if self.kinds.symbol_of(change.mode).is_some() {
                let Some(nick) = change.arg else { continue };
                let old = self.rank(nick);
                let folded = fold_case(nick);
                if on && self.held.len() < MAX_TRACKED {
                    let held = self.held.entry(folded.clone()).or_default();
                    if !held.contains(&change.mode) {
                        held.push(change.mode);
                    }
                } else if let Some(held) = self.held.get_mut(&folded) {
                    held.retain(|m| *m != change.mode);
                }
                self.held.retain(|_, held| !held.is_empty());
                let new = self.rank(nick);
                if new != old {
                    changed.ranks.retain(|(n, _)| fold_case(n) != folded);
                    changed.ranks.push((nick.to_owned(), new));
                }
                continue;
            }
            match change.mode {
                't' => self.room.topic_locked = on,
                'm' => self.room.moderated = on,
                'i' => self.room.invite_only = on,
                // Servers may hide the key from non-members as `*`: set all the same.
                'k' => self.room.key = on.then(|| change.arg.unwrap_or("*").to_owned()),
                'l' => self.room.limit = change.arg.and_then(|l| l.parse().ok()).filter(|_| on),
                'b' => changed
                    .bans
                    .extend(change.arg.map(|mask| (mask.to_owned(), on))),
                _ => {}
            }
        }
        changed.room = self.room != before;
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_follow_names_and_mode_lines() {
        let mut book = ModeBook::default();
        book.isupport("PREFIX=(qov)~@+");
        let entries: Vec<_> = ["~@ann!a@h", "+bob", "carol"]
            .iter()
            .map(|e| {
                let (nick, modes) = book.names_entry(e);
                (nick.to_owned(), modes)
            })
            .collect();
        assert_eq!(entries[0], ("ann".to_owned(), vec!['q', 'o']));
        let ranks = book.replace_members(entries);
        assert_eq!(
            ranks,
            [
                ("ann".to_owned(), Rank::Operator),
                ("bob".to_owned(), Rank::Voiced)
            ]
        );
        let changed = book.apply("+o-v+t", &["Carol", "bob"]);
        assert_eq!(
            changed.ranks,
            [
                ("Carol".to_owned(), Rank::Operator),
                ("bob".to_owned(), Rank::Member)
            ]
        );
        assert!(changed.room && book.room().topic_locked);
        // ann keeps owner after losing op: still an operator, no change.
        assert_eq!(book.apply("-o", &["ann"]).ranks, []);
        book.renamed("carol", "caz");
        assert_eq!(book.rank("CAZ"), Rank::Operator);
        book.left("caz");
        assert_eq!(book.rank("caz"), Rank::Member);
    }

    #[test]
    fn room_modes_from_324_and_changes() {
        let mut book = ModeBook::default();
        book.room_modes_are("+ntkl", &["secret", "10"]);
        assert_eq!(
            book.room(),
            &RoomModes {
                topic_locked: true,
                key: Some("secret".into()),
                limit: Some(10),
                ..RoomModes::default()
            }
        );
        let changed = book.apply("-k+m-l", &["secret"]);
        assert!(changed.room);
        assert_eq!(book.room().key, None);
        assert_eq!(book.room().limit, None);
        assert!(book.room().moderated);
        assert!(!book.apply("+n", &[]).room);
    }
}

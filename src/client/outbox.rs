//! The person's lines until the room has them. They wait here while we are
//! not in the room (connecting, reconnecting), and a line written just
//! before a connection broke is sent again only if the host's history does
//! not show that it arrived: every piece carries a client-only tag with a
//! token of its own, which the host echoes and keeps in its history.

use std::collections::VecDeque;
use std::hash::{BuildHasher, RandomState};

/// The client-only tag that carries a piece's token (the vendor prefix is
/// the app's domain, as the message-tags spec asks).
pub const TOKEN_TAG: &str = "+tcpchat.github.io/id";

/// Bytes of typed text kept while we cannot send: more than a person types
/// in an outage; a paste beyond it is refused, not half kept.
const MAX_WAITING_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PieceState {
    /// Not written on the current connection.
    Waiting,
    /// Written; not yet known to have arrived.
    Written,
    Arrived,
}

/// One IRC line's worth of a typed line.
#[derive(Debug)]
struct Piece {
    token: String,
    /// The PRIVMSG text (CTCP-framed for actions).
    text: String,
    state: PieceState,
}

/// One line as the person typed it, split into pieces that fit the wire.
#[derive(Debug)]
struct Line {
    id: u64,
    target: String,
    pieces: Vec<Piece>,
}

/// A piece to write now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub token: String,
    pub target: String,
    pub text: String,
}

#[derive(Debug)]
pub struct Outbox {
    lines: VecDeque<Line>,
    /// Makes tokens unique beyond this process: two windows, or a restart,
    /// never reuse one.
    token_prefix: String,
    next_id: u64,
    next_piece: u64,
    bytes: usize,
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox {
            lines: VecDeque::new(),
            token_prefix: format!("{:016x}", RandomState::new().hash_one(std::process::id())),
            next_id: 1,
            next_piece: 0,
            bytes: 0,
        }
    }
}

impl Outbox {
    /// Keeps a typed line (already split into `pieces`) for `target`; its id,
    /// or `None` when the outbox is full.
    pub fn push(&mut self, target: &str, pieces: Vec<String>) -> Option<u64> {
        let size: usize = pieces.iter().map(String::len).sum();
        if self.bytes + size > MAX_WAITING_BYTES {
            return None;
        }
        self.bytes += size;
        let id = self.next_id;
        self.next_id += 1;
        let pieces = pieces
            .into_iter()
            .map(|text| {
                self.next_piece += 1;
                Piece {
                    token: format!("{}{:x}", self.token_prefix, self.next_piece),
                    text,
                    state: PieceState::Waiting,
                }
            })
            .collect();
        self.lines.push_back(Line {
            id,
            target: target.to_owned(),
            pieces,
        });
        Some(id)
    }

    /// The pieces to write now, in order; they count as written.
    pub fn take_waiting(&mut self) -> Vec<Outgoing> {
        let mut out = Vec::new();
        for line in &mut self.lines {
            for piece in &mut line.pieces {
                if piece.state == PieceState::Waiting {
                    piece.state = PieceState::Written;
                    out.push(Outgoing {
                        token: piece.token.clone(),
                        target: line.target.clone(),
                        text: piece.text.clone(),
                    });
                }
            }
        }
        out
    }

    /// The host has the piece with `token` (its echo, or its history shows
    /// it). Returns the line's id once every piece of it has arrived.
    pub fn arrived(&mut self, token: &str) -> Option<u64> {
        let at = self
            .lines
            .iter()
            .position(|line| line.pieces.iter().any(|p| p.token == token))?;
        let line = &mut self.lines[at];
        for piece in &mut line.pieces {
            if piece.token == token {
                piece.state = PieceState::Arrived;
            }
        }
        if line.pieces.iter().all(|p| p.state == PieceState::Arrived) {
            return self.remove(at);
        }
        None
    }

    /// With no echo from the host, written is as good as it gets: every line
    /// fully written counts as arrived. Their ids.
    pub fn written_is_arrived(&mut self) -> Vec<u64> {
        let mut done = Vec::new();
        while let Some(at) = self
            .lines
            .iter()
            .position(|line| line.pieces.iter().all(|p| p.state != PieceState::Waiting))
        {
            done.extend(self.remove(at));
        }
        done
    }

    /// The connection broke: what was written without an echo may not have
    /// arrived, so it waits again (unless the history shows it).
    pub fn connection_lost(&mut self) {
        for piece in self.lines.iter_mut().flat_map(|l| l.pieces.iter_mut()) {
            if piece.state == PieceState::Written {
                piece.state = PieceState::Waiting;
            }
        }
    }

    /// Whether `token` is one of ours still on its way.
    pub fn is_ours(&self, token: &str) -> bool {
        token.starts_with(&self.token_prefix)
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    fn remove(&mut self, at: usize) -> Option<u64> {
        let line = self.lines.remove(at)?;
        self.bytes -= line.pieces.iter().map(|p| p.text.len()).sum::<usize>();
        Some(line.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|t| (*t).to_owned()).collect()
    }

    #[test]
    fn a_line_arrives_once_all_its_pieces_do() {
        let mut outbox = Outbox::default();
        let id = outbox.push("#chat", pieces(&["one", "two"])).unwrap();
        let out = outbox.take_waiting();
        assert_eq!(out.len(), 2);
        assert!(outbox.take_waiting().is_empty(), "written once");
        assert!(out.iter().all(|o| outbox.is_ours(&o.token)));
        assert_eq!(outbox.arrived(&out[0].token), None);
        assert_eq!(outbox.arrived(&out[1].token), Some(id));
        assert!(outbox.is_empty());
        assert_eq!(outbox.arrived(&out[1].token), None, "already gone");
    }

    #[test]
    fn a_lost_connection_sends_again_only_what_did_not_arrive() {
        let mut outbox = Outbox::default();
        let first = outbox.push("#chat", pieces(&["first"])).unwrap();
        let second = outbox.push("#chat", pieces(&["second"])).unwrap();
        let written = outbox.take_waiting();
        outbox.connection_lost();
        // The history shows the first arrived before the break.
        assert_eq!(outbox.arrived(&written[0].token), Some(first));
        let again = outbox.take_waiting();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0], written[1], "same token: the host can tell");
        assert_eq!(outbox.arrived(&again[0].token), Some(second));
    }

    #[test]
    fn without_echo_written_counts_as_arrived() {
        let mut outbox = Outbox::default();
        let id = outbox.push("bob", pieces(&["psst"])).unwrap();
        let later = outbox.push("bob", pieces(&["later"])).unwrap();
        outbox.take_waiting();
        let waiting = outbox.push("bob", pieces(&["not yet"])).unwrap();
        assert_eq!(outbox.written_is_arrived(), [id, later]);
        assert_eq!(outbox.take_waiting().len(), 1);
        assert_eq!(outbox.written_is_arrived(), [waiting]);
    }

    #[test]
    fn is_bounded_in_bytes() {
        let mut outbox = Outbox::default();
        let big = "x".repeat(MAX_WAITING_BYTES / 2);
        assert!(outbox.push("#chat", vec![big.clone()]).is_some());
        assert!(outbox.push("#chat", vec![big.clone()]).is_some());
        assert!(outbox.push("#chat", pieces(&["one more"])).is_none());
        let tokens = outbox.take_waiting();
        outbox.arrived(&tokens[0].token);
        assert!(outbox.push("#chat", pieces(&["room again"])).is_some());
    }

    #[test]
    fn tokens_differ_between_outboxes() {
        let mut a = Outbox::default();
        let mut b = Outbox::default();
        a.push("#chat", pieces(&["x"]));
        b.push("#chat", pieces(&["x"]));
        let (ta, tb) = (a.take_waiting(), b.take_waiting());
        assert_ne!(ta[0].token, tb[0].token);
        assert!(!a.is_ours(&tb[0].token));
    }
}

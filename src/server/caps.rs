//! The IRCv3 capabilities the host offers, and which ones a client took.

/// A set of capabilities, one bit each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Caps(u8);

impl Caps {
    pub const SERVER_TIME: Caps = Caps(1);
    pub const MESSAGE_TAGS: Caps = Caps(1 << 1);
    pub const ECHO_MESSAGE: Caps = Caps(1 << 2);
    pub const BATCH: Caps = Caps(1 << 3);
    pub const CHATHISTORY: Caps = Caps(1 << 4);
    pub const AWAY_NOTIFY: Caps = Caps(1 << 5);
    /// Every prefix a member has in NAMES, WHO and WHOIS, not the highest only.
    pub const MULTI_PREFIX: Caps = Caps(1 << 6);

    /// Every capability with its name on the wire.
    const NAMED: [(Caps, &'static str); 7] = [
        (Caps::SERVER_TIME, "server-time"),
        (Caps::MESSAGE_TAGS, "message-tags"),
        (Caps::ECHO_MESSAGE, "echo-message"),
        (Caps::BATCH, "batch"),
        (Caps::AWAY_NOTIFY, "away-notify"),
        (Caps::MULTI_PREFIX, "multi-prefix"),
        (Caps::CHATHISTORY, "draft/chathistory"),
    ];

    /// What the host offers: history only when it keeps any.
    pub fn offered(keeps_history: bool) -> Caps {
        let all = Caps::NAMED
            .iter()
            .fold(Caps::default(), |set, (cap, _)| set.with(*cap));
        if keeps_history {
            all
        } else {
            all.without(Caps::CHATHISTORY)
        }
    }

    pub fn has(self, cap: Caps) -> bool {
        self.0 & cap.0 == cap.0
    }

    #[must_use]
    pub fn with(self, cap: Caps) -> Caps {
        Caps(self.0 | cap.0)
    }

    #[must_use]
    pub fn without(self, cap: Caps) -> Caps {
        Caps(self.0 & !cap.0)
    }

    /// Space-separated names, for CAP LS and CAP LIST.
    pub fn names(self) -> String {
        Caps::NAMED
            .iter()
            .filter(|(cap, _)| self.has(*cap))
            .map(|(_, name)| *name)
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The set after a `CAP REQ` of `request` (`name` enables, `-name`
    /// disables), or `None` when it names anything not `offered`: a request
    /// is taken whole or not at all.
    pub fn after_request(self, request: &str, offered: Caps) -> Option<Caps> {
        let mut result = self;
        for word in request.split(' ').filter(|w| !w.is_empty()) {
            let (remove, name) = match word.strip_prefix('-') {
                Some(name) => (true, name),
                None => (false, word),
            };
            let (cap, _) = Caps::NAMED.iter().find(|(_, n)| *n == name)?;
            if !offered.has(*cap) {
                return None;
            }
            result = if remove {
                result.without(*cap)
            } else {
                result.with(*cap)
            };
        }
        Some(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_all_or_nothing() {
        let offered = Caps::offered(true);
        let taken = Caps::default()
            .after_request("server-time  message-tags", offered)
            .unwrap();
        assert!(taken.has(Caps::SERVER_TIME) && taken.has(Caps::MESSAGE_TAGS));
        assert!(!taken.has(Caps::BATCH));
        assert_eq!(taken.after_request("batch sasl", offered), None);
        let fewer = taken.after_request("-server-time", offered).unwrap();
        assert!(!fewer.has(Caps::SERVER_TIME) && fewer.has(Caps::MESSAGE_TAGS));
    }

    #[test]
    fn history_is_offered_only_when_kept() {
        assert!(Caps::offered(true).names().contains("draft/chathistory"));
        assert!(!Caps::offered(false).names().contains("chathistory"));
        assert_eq!(
            Caps::default().after_request("draft/chathistory", Caps::offered(false)),
            None
        );
    }
}

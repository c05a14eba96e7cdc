//! The IRCv3 capabilities the session asks for, and what the server granted.

/// What we use, in the order we ask. echo-message is only worth having
/// with message-tags: an echo we cannot recognise by its tag would show our
/// own line twice.
const WANTED: [&str; 7] = [
    "server-time",
    "message-tags",
    "batch",
    "echo-message",
    "draft/chathistory",
    "away-notify",
    "multi-prefix",
];

/// Capability names kept from one CAP LS listing: a server listing more is
/// not telling us anything useful.
pub const MAX_LISTED: usize = 200;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Granted {
    pub server_time: bool,
    pub message_tags: bool,
    pub batch: bool,
    pub echo_message: bool,
    pub chathistory: bool,
    pub away_notify: bool,
    /// NAMES and WHO list every membership prefix (`@+ann`), not only the highest.
    pub multi_prefix: bool,
}

impl Granted {
    /// Our own lines come back tagged with their tokens: the outbox can tell
    /// which arrived.
    pub fn confirms_delivery(self) -> bool {
        self.message_tags && self.echo_message
    }

    /// History in batches we can read.
    pub fn history(self) -> bool {
        self.chathistory && self.batch && self.message_tags
    }

    fn set(&mut self, name: &str) {
        match name {
            "server-time" => self.server_time = true,
            "message-tags" => self.message_tags = true,
            "batch" => self.batch = true,
            "echo-message" => self.echo_message = true,
            "draft/chathistory" => self.chathistory = true,
            "away-notify" => self.away_notify = true,
            "multi-prefix" => self.multi_prefix = true,
            _ => {}
        }
    }
}

/// The capabilities to request from a CAP LS list (`name` or `name=value`
/// words); empty when none is of use.
pub fn request_for(offered: &[String]) -> Vec<&'static str> {
    let has = |wanted: &str| offered.iter().any(|o| o.split('=').next() == Some(wanted));
    WANTED
        .into_iter()
        .filter(|cap| has(cap))
        .filter(|cap| *cap != "echo-message" || has("message-tags"))
        .collect()
}

/// What a CAP ACK granted.
pub fn granted(acked: &str) -> Granted {
    let mut granted = Granted::default();
    for name in acked.split(' ').filter(|n| !n.starts_with('-')) {
        granted.set(name);
    }
    granted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &str) -> Vec<String> {
        list.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn asks_only_for_what_is_offered_and_useful() {
        let offered = words(
            "sasl=PLAIN server-time message-tags echo-message batch draft/chathistory away-notify multi-prefix",
        );
        assert_eq!(request_for(&offered), WANTED);
        assert_eq!(
            request_for(&words("echo-message server-time")),
            ["server-time"]
        );
        assert!(request_for(&words("sasl account-tag")).is_empty());
    }

    #[test]
    fn reads_an_ack() {
        let all =
            granted("server-time message-tags batch echo-message draft/chathistory away-notify");
        assert!(all.confirms_delivery() && all.history() && all.away_notify);
        let some = granted("server-time -batch");
        assert!(some.server_time && !some.batch && !some.history());
    }
}

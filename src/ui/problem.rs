//! Turns the network's typed failures into what the banner says and the one
//! thing it offers to do about it. GTK-free.

use crate::api::{CertificateProblem, DisconnectReason, Flood, HostError};
use crate::i18n::{gettext, gettext_f};

/// The banner's button.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remedy {
    /// Repeat the last Host or Connect as it was.
    TryAgain,
    Reconnect,
    /// Open the Host form at its port.
    ChooseAnotherPort,
    /// Open the Connect form at its address.
    EditAddress,
    /// Open the Connect form at its password.
    EnterPassword,
    /// Connect again, accepting the host's new certificate.
    TrustNewIdentity,
}

impl Remedy {
    pub fn label(self) -> String {
        match self {
            Remedy::TryAgain => gettext("_Try Again"),
            Remedy::Reconnect => gettext("_Reconnect"),
            Remedy::ChooseAnotherPort => gettext("_Choose Another Port"),
            Remedy::EditAddress => gettext("_Edit Address"),
            Remedy::EnterPassword => gettext("_Enter Password"),
            Remedy::TrustNewIdentity => gettext("_Trust New Identity"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    /// `None` when nothing in the window can help.
    pub remedy: Option<Remedy>,
}

impl Problem {
    fn new(message: String, remedy: Remedy) -> Self {
        Problem {
            message,
            remedy: Some(remedy),
        }
    }

    /// The network thread could not start, or ended: no Host or Connect
    /// can work in this window any more.
    pub fn network_unavailable() -> Self {
        Problem {
            message: gettext(
                "TCP Chat cannot use the network right now. Quit TCP Chat and start it again.",
            ),
            remedy: None,
        }
    }
}

/// The one log line for an outage while the session reconnects: what
/// happened, in words, never the system's error text.
pub fn outage(reason: &DisconnectReason, target: &str) -> String {
    match reason {
        DisconnectReason::HostClosed { .. } => gettext("The host closed the room; reconnecting…"),
        DisconnectReason::TimedOut => gettext_f(
            "{target} stopped answering; reconnecting…",
            &[("target", target)],
        ),
        _ => gettext_f(
            "The connection to {target} was lost; reconnecting…",
            &[("target", target)],
        ),
    }
}

/// The banner while waiting to reconnect, `seconds` before the next try.
pub fn reconnecting_in(seconds: u64) -> String {
    if seconds == 0 {
        gettext("Connection lost. Reconnecting…")
    } else {
        gettext_f(
            "Connection lost. Reconnecting in {seconds} s…",
            &[("seconds", &seconds.to_string())],
        )
    }
}

/// The banner button that skips the wait.
pub fn reconnect_now_label() -> String {
    gettext("Reconnect _Now")
}

/// Why we are no longer (or never got) connected to `target` (the address
/// as the person typed it). `None` when we left on purpose.
pub fn for_disconnect(reason: &DisconnectReason, target: &str) -> Option<Problem> {
    use DisconnectReason as Reason;
    let at = [("target", target)];
    let problem = match reason {
        Reason::Left => return None,
        Reason::Refused => Problem::new(
            gettext_f("Nobody is hosting a room at {target}. Check the address, or ask the host to open the room.", &at),
            Remedy::TryAgain,
        ),
        Reason::Unreachable => Problem::new(
            gettext_f("{target} cannot be reached. Check that you are on the same network.", &at),
            Remedy::TryAgain,
        ),
        Reason::NotResolved { host } => Problem::new(
            gettext_f("No computer called “{host}” was found. Check the spelling, or use its IP address.", &[("host", host)]),
            Remedy::TryAgain,
        ),
        Reason::InvalidAddress { address } => Problem::new(
            gettext_f("“{address}” is not an address. Use host, host:port or irc://host:port/#room.", &[("address", address)]),
            Remedy::EditAddress,
        ),
        Reason::WrongPassword => Problem::new(
            gettext_f("The room at {target} needs a different password.", &at),
            Remedy::EnterPassword,
        ),
        Reason::HostClosed { message: Some(message) } if !message.trim().is_empty() => Problem::new(
            gettext_f("The host closed the room: {message}", &[("message", message.trim())]),
            Remedy::Reconnect,
        ),
        Reason::HostClosed { .. } => Problem::new(gettext("The host closed the room."), Remedy::Reconnect),
        // Not reconnected on its own: coming back is the person's choice.
        Reason::Kicked { by, reason: Some(reason) } if !reason.trim().is_empty() => Problem::new(
            gettext_f("{by} removed you from the room: {reason}", &[("by", by), ("reason", reason.trim())]),
            Remedy::Reconnect,
        ),
        Reason::Kicked { by, .. } => Problem::new(
            gettext_f("{by} removed you from the room.", &[("by", by)]),
            Remedy::Reconnect,
        ),
        Reason::Banned => Problem::new(
            gettext_f("You are banned from the room at {target}. Ask one of its operators to lift the ban.", &at),
            Remedy::TryAgain,
        ),
        Reason::TimedOut => Problem::new(
            gettext_f("{target} did not answer in time.", &at),
            Remedy::TryAgain,
        ),
        Reason::ConnectionLost { detail } => Problem::new(
            gettext_f("The connection to {target} was lost ({detail}).", &[("target", target), ("detail", detail)]),
            Remedy::Reconnect,
        ),
        Reason::IdentityChanged { expected, presented } => Problem::new(
            gettext_f(
                "The identity of {target} has changed: its safety code was {expected}, now it is {presented}. Someone may be listening in, or the host made a new certificate. Nothing was sent. Ask the host which code their window shows before you trust it.",
                &[("target", target), ("expected", &expected.safety_code()), ("presented", &presented.safety_code())],
            ),
            Remedy::TrustNewIdentity,
        ),
        Reason::NoLongerEncrypted => Problem::new(
            gettext_f("{target} used to encrypt the conversation and no longer does. Someone may be listening in. Nothing was sent.", &at),
            Remedy::TryAgain,
        ),
        Reason::CertificateRejected { problem } => certificate_problem(problem, target),
        Reason::HostFlooded { flood: Flood::UnreadAnswers } => Problem::new(
            gettext_f("{target} stopped reading what TCP Chat sends while it kept asking for answers, so TCP Chat disconnected.", &at),
            Remedy::TryAgain,
        ),
        Reason::HostFlooded { flood: Flood::Members { limit } } => Problem::new(
            gettext_f(
                "The room at {target} lists more than {limit} members, more than TCP Chat can show, so TCP Chat disconnected.",
                &[("target", target), ("limit", &limit.to_string())],
            ),
            Remedy::TryAgain,
        ),
    };
    Some(problem)
}

/// An `ircs://` server's certificate, refused.
fn certificate_problem(problem: &CertificateProblem, target: &str) -> Problem {
    let at = [("target", target)];
    match problem {
        CertificateProblem::UnknownIssuer => Problem::new(
            gettext_f("The certificate of {target} is not signed by an authority this computer trusts. For a room hosted with TCP Chat, use its address without ircs:// or port 6697.", &at),
            Remedy::EditAddress,
        ),
        CertificateProblem::WrongName => Problem::new(
            gettext_f("The certificate of {target} is made out for another name. Check the address.", &at),
            Remedy::EditAddress,
        ),
        CertificateProblem::Expired => Problem::new(
            gettext_f("The certificate of {target} has expired or is not valid yet. Check this computer’s date and time.", &at),
            Remedy::TryAgain,
        ),
        CertificateProblem::NotTls => Problem::new(
            gettext_f("{target} does not offer an encrypted connection on that port. Check the address.", &at),
            Remedy::EditAddress,
        ),
        CertificateProblem::Other(detail) => Problem::new(
            gettext_f("The encrypted connection to {target} failed ({detail}).", &[("target", target), ("detail", detail)]),
            Remedy::TryAgain,
        ),
    }
}

pub fn for_host_error(error: &HostError) -> Problem {
    match error {
        HostError::PortInUse { port } => Problem::new(
            gettext_f("Port {port} is already in use on this computer.", &[("port", &port.to_string())]),
            Remedy::ChooseAnotherPort,
        ),
        HostError::PermissionDenied { port } => Problem::new(
            gettext_f("This computer does not allow using port {port}. Ports above 1024 need no special rights.", &[("port", &port.to_string())]),
            Remedy::ChooseAnotherPort,
        ),
        HostError::Other(detail) => Problem::new(
            gettext_f("The room could not be opened ({detail}).", &[("detail", detail)]),
            Remedy::TryAgain,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaving_on_purpose_is_no_problem() {
        assert_eq!(for_disconnect(&DisconnectReason::Left, "h"), None);
    }

    #[test]
    fn each_failure_offers_its_remedy() {
        let remedy = |reason| for_disconnect(&reason, "pc:6667").unwrap().remedy.unwrap();
        assert_eq!(remedy(DisconnectReason::Refused), Remedy::TryAgain);
        assert_eq!(remedy(DisconnectReason::TimedOut), Remedy::TryAgain);
        assert_eq!(
            remedy(DisconnectReason::WrongPassword),
            Remedy::EnterPassword
        );
        assert_eq!(
            remedy(DisconnectReason::HostClosed { message: None }),
            Remedy::Reconnect
        );
        let lost = DisconnectReason::ConnectionLost {
            detail: "reset".into(),
        };
        assert!(for_disconnect(&lost, "pc:6667")
            .unwrap()
            .message
            .contains("pc:6667"));
        let flooded = |flood| DisconnectReason::HostFlooded { flood };
        assert_eq!(remedy(flooded(Flood::UnreadAnswers)), Remedy::TryAgain);
        let members = for_disconnect(&flooded(Flood::Members { limit: 100_000 }), "pc:6667");
        assert!(members.unwrap().message.contains("100000 members"));
        let port = for_host_error(&HostError::PortInUse { port: 6667 });
        assert_eq!(port.remedy, Some(Remedy::ChooseAnotherPort));
        assert!(port.message.contains("6667"));
    }

    #[test]
    fn outages_are_told_without_system_text() {
        let lost = DisconnectReason::ConnectionLost {
            detail: "unexpected end of file".into(),
        };
        let line = outage(&lost, "pc:6667");
        assert_eq!(line, "The connection to pc:6667 was lost; reconnecting…");
        assert_eq!(reconnecting_in(5), "Connection lost. Reconnecting in 5 s…");
        assert_eq!(reconnecting_in(0), "Connection lost. Reconnecting…");
    }
}

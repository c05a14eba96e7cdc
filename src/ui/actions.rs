//! Every action name in one place, so Rust never repeats the strings.
//! (The `.ui` files name them too; GtkBuilder cannot read Rust constants.)

/// Actions of the application (`app.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppAction {
    Quit,
    About,
    Preferences,
    /// A notification's click: `(window id, conversation key)`.
    ShowConversation,
    /// Close the room a hidden window hosts (its window id).
    CloseRoom,
}

impl AppAction {
    /// The name an `ActionEntry` registers.
    pub const fn name(self) -> &'static str {
        match self {
            AppAction::Quit => "quit",
            AppAction::About => "about",
            AppAction::Preferences => "preferences",
            AppAction::ShowConversation => "show-conversation",
            AppAction::CloseRoom => "close-room",
        }
    }

    /// The name widgets and accelerators use.
    pub const fn detailed(self) -> &'static str {
        match self {
            AppAction::Quit => "app.quit",
            AppAction::About => "app.about",
            AppAction::Preferences => "app.preferences",
            AppAction::ShowConversation => "app.show-conversation",
            AppAction::CloseRoom => "app.close-room",
        }
    }
}

/// Actions of the main window (`win.*`), installed on its class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WinAction {
    /// Open the Host form.
    Host,
    /// Open the Connect form.
    Connect,
    /// Leave the room (asks first when we host it).
    Leave,
    /// Send what the entry holds.
    Send,
    /// Repeat the last Host or Connect.
    Retry,
    /// While waiting to reconnect: try now.
    ReconnectNow,
    /// Open the Host form at its port.
    ChoosePort,
    /// Open the Connect form at its address.
    EditAddress,
    /// Open the Connect form at its password.
    EnterPassword,
    /// Connect again, accepting the certificate a known host now shows.
    TrustNewIdentity,
    CopyAddress,
    /// Forget the history of the room we host (asks first).
    ClearHistory,
    FocusEntry,
    /// Open the search bar above the log.
    Find,
    ShowMembers,
    /// Begin (or show) a private conversation with the nick given.
    MessageMember,
    /// Ask a reason, then remove the member whose nick is given.
    KickMember,
    /// Ban the member whose nick is given and remove them.
    BanMember,
    /// Give the member whose nick is given operator status…
    OpMember,
    /// …or take it away.
    DeopMember,
    /// Give the member whose nick is given a voice…
    VoiceMember,
    /// …or take it away.
    DevoiceMember,
    /// Show the room's topic and settings (editable when we are operator).
    RoomDetails,
    /// Ask a nick, then invite them into the room.
    Invite,
    /// Show the conversation whose key is given (`ConversationId::key`).
    ShowConversation,
    /// End the private conversation shown.
    CloseConversation,
    /// Built in by GtkApplication when `gtk/help-overlay.ui` exists.
    ShowHelpOverlay,
}

impl WinAction {
    pub const fn detailed(self) -> &'static str {
        match self {
            WinAction::Host => "win.host",
            WinAction::Connect => "win.connect",
            WinAction::Leave => "win.leave",
            WinAction::Send => "win.send",
            WinAction::Retry => "win.retry",
            WinAction::ReconnectNow => "win.reconnect-now",
            WinAction::ChoosePort => "win.choose-port",
            WinAction::EditAddress => "win.edit-address",
            WinAction::EnterPassword => "win.enter-password",
            WinAction::TrustNewIdentity => "win.trust-new-identity",
            WinAction::CopyAddress => "win.copy-address",
            WinAction::ClearHistory => "win.clear-history",
            WinAction::FocusEntry => "win.focus-entry",
            WinAction::Find => "win.find",
            WinAction::ShowMembers => "win.show-members",
            WinAction::MessageMember => "win.message-member",
            WinAction::KickMember => "win.kick-member",
            WinAction::BanMember => "win.ban-member",
            WinAction::OpMember => "win.op-member",
            WinAction::DeopMember => "win.deop-member",
            WinAction::VoiceMember => "win.voice-member",
            WinAction::DevoiceMember => "win.devoice-member",
            WinAction::RoomDetails => "win.room-details",
            WinAction::Invite => "win.invite",
            WinAction::ShowConversation => "win.show-conversation",
            WinAction::CloseConversation => "win.close-conversation",
            WinAction::ShowHelpOverlay => "win.show-help-overlay",
        }
    }
}

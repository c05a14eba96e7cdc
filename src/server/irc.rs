//! An IRC client's session: registration (CAP, PASS, NICK, USER), then the
//! commands of a small, compatible server.

use super::about::{info_lines, VERSION};
use super::bans::MAX_BANS;
use super::caps::Caps;
use super::chathistory::{self, Fail, Request};
use super::connection::Client;
use super::guard::Verdict;
use super::hub::{
    valid_nick, ChannelError, Identity, JoinError, Joined, Listed, MessageKind, ModeRefusal,
    NickError, SayError, Style, Topic, Whois, MAX_CHANNELS_PER_CLIENT, MAX_MODE_CHANGES,
    MAX_REASON_BYTES,
};
use super::input::{Ending, Input, Next};
use super::modes::{HOST_MODES, MAX_KEY_BYTES};
use crate::protocol::names::{CASEMAPPING, MAX_CHANNEL_LEN, MAX_NICK_LEN};
use crate::protocol::numeric::*;
use crate::protocol::{
    fold_case, is_channel_name, same_name, tags, time, truncate_utf8, Line, Message, MAX_LINE_BYTES,
};

/// Whether a connection's first line shows an IRC client. Clients write
/// commands in capitals; a person typing "nick" as a name is not one.
pub(super) fn is_registration(line: &str) -> bool {
    let command = line
        .trim_start_matches(' ')
        .split(' ')
        .next()
        .unwrap_or_default();
    matches!(command, "CAP" | "PASS" | "NICK" | "USER")
}

pub(super) async fn run(client: &Client<'_>, input: &mut Input, first: String) -> Ending {
    let mut session = Session::new(client);
    let mut line = Line::Text(first);
    loop {
        let was_registered = session.registered;
        if let Some(ending) = session.handle(line) {
            return ending;
        }
        if let Some(guess) = session.guess.take() {
            if let Some(ending) = session.judge(&guess).await {
                return ending;
            }
        }
        if session.registered && !was_registered {
            let limits = &client.shared.config.limits;
            let keepalive = (
                limits.ping_interval,
                limits.ping_timeout,
                client.server_name().to_owned(),
            );
            input.registered(Some(keepalive), limits.flood_control);
        }
        if let Some(request) = session.history_request.take() {
            session.answer_history(*request).await;
        }
        line = match client.next(input).await {
            Next::Line(line) => line,
            Next::End(ending) => return ending,
        };
    }
}

struct Session<'a> {
    client: &'a Client<'a>,
    nick: Option<String>,
    /// `(user name, real name)` from USER.
    user: Option<(String, String)>,
    /// The connection's one PASS, to judge once its line is handled.
    guess: Option<String>,
    /// A PASS was given (later ones are ignored: one guess per connection).
    guessed: bool,
    /// It gave the owner key: the host's own person.
    owner: bool,
    /// The room has no password, or this client gave it. Until then
    /// nothing looks at the hub: a NICK must not tell who is in the room.
    password_ok: bool,
    /// Between CAP LS/REQ and CAP END the welcome is held back.
    cap_negotiating: bool,
    caps: Caps,
    registered: bool,
    invisible: bool,
    /// A CHATHISTORY to answer once the current line is handled: reading
    /// the database must not hold up the runtime's thread.
    /// Boxed: rare, and inline it would be room in every idle client's task.
    history_request: Option<Box<Request>>,
    /// Names this client's batches.
    batches: u64,
}

impl<'a> Session<'a> {
    fn new(client: &'a Client<'a>) -> Self {
        Session {
            client,
            nick: None,
            user: None,
            guess: None,
            guessed: false,
            owner: false,
            password_ok: !client.shared.guard.required(),
            cap_negotiating: false,
            caps: Caps::default(),
            registered: false,
            invisible: false,
            history_request: None,
            batches: 0,
        }
    }

    fn offered_caps(&self) -> Caps {
        Caps::offered(self.client.shared.hub.history().is_some())
    }

    /// `:server NUMERIC <nick> params…`
    fn reply<'p>(&self, numeric: &str, params: impl IntoIterator<Item = &'p str>) {
        let me = self.me().to_owned();
        let params = std::iter::once(me).chain(params.into_iter().map(String::from));
        let message = Message::new(numeric, params).with_prefix(self.client.server_name());
        self.client.send(&message);
    }

    fn handle(&mut self, line: Line) -> Option<Ending> {
        let text = match line {
            Line::Text(text) => text,
            Line::TooLong => {
                self.reply(ERR_INPUTTOOLONG, ["Input line was too long"]);
                return None;
            }
        };
        let Ok(message) = Message::parse(&text) else {
            return None; // Blank lines are ignored, as servers do.
        };
        match message.command.as_str() {
            "PING" => self.ping(&message),
            "PONG" => {}
            "QUIT" => return Some(Ending::Quit(message.param(0).map(str::to_owned))),
            "CAP" => return self.cap(&message),
            _ if self.registered => self.command(&message),
            "PASS" => match message.param(0) {
                Some(key) if !self.guessed && self.client.shared.guard.is_owner_key(key) => {
                    // The host's own session: it stands for the password too.
                    self.guessed = true;
                    self.owner = true;
                    self.password_ok = true;
                }
                Some(_) if self.guessed || self.password_ok => {}
                Some(password) => {
                    self.guessed = true;
                    self.guess = Some(password.to_owned());
                }
                None => self.need_more_params("PASS"),
            },
            "NICK" => {
                if let Some(nick) = self.checked_nick(&message) {
                    self.nick = Some(nick);
                    return self.try_register();
                }
            }
            "USER" => {
                // Only the last parameter can be empty: an empty real name
                // is kept (WHO and WHOIS show it empty).
                if message.params.len() < 4 {
                    self.need_more_params("USER");
                } else {
                    let user = clean_user(message.param(0).unwrap_or_default());
                    let realname = message.param(3).unwrap_or_default();
                    let realname = truncate_utf8(realname, MAX_REALNAME_BYTES).to_owned();
                    self.user = Some((user, realname));
                    return self.try_register();
                }
            }
            _ => self.reply(ERR_NOTREGISTERED, ["You have not registered"]),
        }
        None
    }

    /// Judges the connection's PASS (a wrong one is answered late, see
    /// [`super::guard`]); the ending when it was not the password.
    async fn judge(&mut self, guess: &str) -> Option<Ending> {
        let shared = self.client.shared;
        match shared
            .guard
            .judge(self.client.ip, guess, &shared.shutdown)
            .await
        {
            Ok(Verdict::Accepted) => {
                self.password_ok = true;
                None
            }
            Ok(Verdict::Wrong) => {
                self.reply(ERR_PASSWDMISMATCH, ["Password incorrect"]);
                Some(Ending::BadPassword)
            }
            Ok(Verdict::Banned) => {
                self.reply(
                    ERR_YOUREBANNEDCREEP,
                    ["Too many wrong passwords from your address; try again later"],
                );
                let goodbye = "Closing link: too many wrong passwords";
                self.client.send(&Message::new("ERROR", [goodbye]));
                Some(Ending::Banned)
            }
            Err(ending) => Some(ending),
        }
    }

    fn need_more_params(&self, command: &str) {
        self.reply(ERR_NEEDMOREPARAMS, [command, "Not enough parameters"]);
    }

    fn ping(&self, message: &Message) {
        match message.param(0) {
            Some(token) => {
                let server = self.client.server_name();
                let pong = Message::new("PONG", [server, token]).with_prefix(server);
                self.client.send(&pong);
            }
            None => self.reply(ERR_NOORIGIN, ["No origin specified"]),
        }
    }

    /// IRCv3 capability negotiation (LS, LIST, REQ, END).
    fn cap(&mut self, message: &Message) -> Option<Ending> {
        let Some(sub) = message.param(0).map(str::to_ascii_uppercase) else {
            self.need_more_params("CAP");
            return None;
        };
        let server = self.client.server_name().to_owned();
        let me = self.nick.clone().unwrap_or_else(|| "*".to_owned());
        let answer = |verb: &str, list: &str| {
            let message =
                Message::new("CAP", [me.as_str(), verb, list]).with_prefix(server.as_str());
            self.client.send(&message);
        };
        match sub.as_str() {
            "LS" => answer("LS", &self.offered_caps().names()),
            "LIST" => answer("LIST", &self.caps.names()),
            "REQ" => {
                let request = message.param(1).unwrap_or_default();
                match self.caps.after_request(request, self.offered_caps()) {
                    Some(caps) => {
                        answer("ACK", request);
                        self.caps = caps;
                        if self.registered {
                            self.client.shared.hub.set_caps(self.client.id, caps);
                        }
                    }
                    None => answer("NAK", request),
                }
            }
            "END" => {}
            _ => {
                self.reply(ERR_INVALIDCAPCMD, [sub.as_str(), "Invalid CAP command"]);
                return None;
            }
        }
        if !self.registered {
            self.cap_negotiating = sub != "END";
            return self.try_register();
        }
        None
    }

    /// The nickname asked for by NICK, or `None` after telling why not.
    fn checked_nick(&self, message: &Message) -> Option<String> {
        let nick = match message.param(0) {
            Some(nick) if !nick.is_empty() => nick,
            _ => {
                self.reply(ERR_NONICKNAMEGIVEN, ["No nickname given"]);
                return None;
            }
        };
        let hub = &self.client.shared.hub;
        // Before the password, a taken nick is only found at registration.
        let checked = if self.registered || self.password_ok {
            hub.check_nick(self.client.id, nick)
        } else {
            valid_nick(nick)
        };
        match checked {
            Ok(()) => Some(nick.to_owned()),
            Err(err) => {
                self.nick_error(nick, err);
                None
            }
        }
    }

    /// 432 or 433.
    fn nick_error(&self, nick: &str, err: NickError) {
        match err {
            NickError::Invalid => self.reply(ERR_ERRONEUSNICKNAME, [nick, "Erroneous nickname"]),
            NickError::InUse => self.reply(ERR_NICKNAMEINUSE, [nick, "Nickname is already in use"]),
        }
    }

    fn try_register(&mut self) -> Option<Ending> {
        if self.cap_negotiating {
            return None;
        }
        let (Some(nick), Some((user, realname))) = (self.nick.clone(), self.user.clone()) else {
            return None;
        };
        if !self.password_ok {
            // NICK and USER with no PASS before them (a wrong one has ended
            // the connection already).
            self.reply(ERR_PASSWDMISMATCH, ["Password required"]);
            return Some(Ending::BadPassword);
        }
        let identity = Identity {
            nick: nick.clone(),
            user,
            host: self.client.host.clone(),
            realname,
        };
        let hub = &self.client.shared.hub;
        let queue = self.client.queue.clone();
        let registered = hub.register(
            self.client.id,
            identity.clone(),
            Style::Irc,
            self.caps,
            queue,
            self.owner,
        );
        if let Err(err) = registered {
            // Taken between NICK and now.
            self.nick_error(&nick, err);
            self.nick = None;
            return None;
        }
        self.registered = true;
        log::info!("{} registered", identity.prefix());
        self.welcome(&identity);
        self.join(hub.room(), None);
        None
    }

    fn welcome(&self, identity: &Identity) {
        let server = self.client.server_name();
        let network: String = server.chars().filter(|c| !c.is_whitespace()).collect();
        let welcome = format!(
            "Welcome to the {network} IRC network, {}",
            identity.prefix()
        );
        self.reply(RPL_WELCOME, [welcome.as_str()]);
        let your_host = format!("Your host is {server}, running version {VERSION}");
        self.reply(RPL_YOURHOST, [your_host.as_str()]);
        self.reply(RPL_CREATED, ["This server is a TCP Chat host"]);
        self.reply(RPL_MYINFO, [server, VERSION, "i", "biklmnotv", "klobv"]);
        self.isupport();
        // No LUSERS here (ngircd sends it): everything up to the room's
        // JOIN is queued at once, and the JOIN, relayed by the hub, must
        // still find room in a small send queue.
        self.motd();
    }

    /// 005: what this server supports (after the welcome and VERSION).
    fn isupport(&self) {
        let server = self.client.server_name();
        let network: String = server.chars().filter(|c| !c.is_whitespace()).collect();
        let nicklen = format!("NICKLEN={MAX_NICK_LEN}");
        let chanlen = format!("CHANNELLEN={MAX_CHANNEL_LEN}");
        let network = format!("NETWORK={network}");
        let targmax = ["PRIVMSG", "NOTICE", "TAGMSG", "JOIN", "PART", "NAMES"]
            .map(|command| format!("{command}:{MAX_TARGETS}"))
            .join(",");
        let targmax = format!("TARGMAX={targmax}");
        let chanlimit = format!("CHANLIMIT=#&:{MAX_CHANNELS_PER_CLIENT}");
        let topiclen = format!("TOPICLEN={MAX_REASON_BYTES}");
        let awaylen = format!("AWAYLEN={MAX_REASON_BYTES}");
        let history_limit = format!("CHATHISTORY={}", chathistory::MAX_LIMIT);
        let history_tokens = [history_limit.as_str(), "MSGREFTYPES=msgid,timestamp"];
        let keeps_history = self.client.shared.hub.history().is_some();
        let history_tokens = history_tokens.iter().filter(|_| keeps_history).copied();
        let casemapping = format!("CASEMAPPING={CASEMAPPING}");
        let kinds = &*HOST_MODES;
        let chanmodes = format!("CHANMODES={}", kinds.chanmodes_token());
        let prefix = format!("PREFIX={}", kinds.prefix_token());
        let modes = format!("MODES={MAX_MODE_CHANGES}");
        let maxlist = format!("MAXLIST=b:{MAX_BANS}");
        let keylen = format!("KEYLEN={MAX_KEY_BYTES}");
        let tokens = [
            casemapping.as_str(),
            "CHANTYPES=#&",
            nicklen.as_str(),
            chanlen.as_str(),
            network.as_str(),
            chanmodes.as_str(),
            prefix.as_str(),
            modes.as_str(),
            maxlist.as_str(),
            keylen.as_str(),
            targmax.as_str(),
            chanlimit.as_str(),
            topiclen.as_str(),
            awaylen.as_str(),
        ];
        let tokens = tokens
            .into_iter()
            .chain(history_tokens)
            .chain(["are supported by this server"]);
        self.reply(RPL_ISUPPORT, tokens);
    }

    /// 375, 372s and 376, or 422 when the host has no MOTD.
    fn motd(&self) {
        let lines = &self.client.shared.config.motd;
        if lines.is_empty() {
            return self.reply(ERR_NOMOTD, ["MOTD File is missing"]);
        }
        let start = format!("- {} Message of the day - ", self.client.server_name());
        self.reply(RPL_MOTDSTART, [start.as_str()]);
        for line in lines {
            self.reply(RPL_MOTD, [format!("- {line}").as_str()]);
        }
        self.reply(RPL_ENDOFMOTD, ["End of /MOTD command."]);
    }

    /// LUSERS: one server, no operators, no invisible count (user mode +i
    /// is kept by each session, not counted).
    fn lusers(&self) {
        let shared = self.client.shared;
        let counts = shared.hub.counts();
        let (users, peak) = (counts.users.to_string(), counts.peak_users.to_string());
        let clients = format!("There are {users} users on 1 server");
        self.reply(RPL_LUSERCLIENT, [clients.as_str()]);
        let open = shared
            .connections
            .load(std::sync::atomic::Ordering::Relaxed);
        let unknown = open.saturating_sub(counts.users);
        if unknown > 0 {
            let unknown = unknown.to_string();
            self.reply(
                RPL_LUSERUNKNOWN,
                [unknown.as_str(), "unknown connection(s)"],
            );
        }
        let channels = counts.channels.to_string();
        self.reply(RPL_LUSERCHANNELS, [channels.as_str(), "channels formed"]);
        let me = format!("I have {users} clients and 0 servers");
        self.reply(RPL_LUSERME, [me.as_str()]);
        let local = format!("Current local users {users}, max {peak}");
        self.reply(
            RPL_LOCALUSERS,
            [users.as_str(), peak.as_str(), local.as_str()],
        );
        let global = format!("Current global users {users}, max {peak}");
        self.reply(
            RPL_GLOBALUSERS,
            [users.as_str(), peak.as_str(), global.as_str()],
        );
    }

    /// WHOIS [server] nick[,nick…]: 311, 319, 312, 301, 317 and 318 for each,
    /// or 401 and 318.
    fn whois(&self, message: &Message) {
        let list = match message.params.len() {
            0 => return self.reply(ERR_NONICKNAMEGIVEN, ["No nickname given"]),
            // `WHOIS server nick` asks that server; there is only us.
            1 => message.param(0),
            _ => message.param(1),
        };
        let targets = match distinct_targets(list.unwrap_or_default()) {
            Ok(targets) if targets.is_empty() => {
                return self.reply(ERR_NONICKNAMEGIVEN, ["No nickname given"]);
            }
            Ok(targets) => targets,
            Err(first_extra) => {
                return self.reply(ERR_TOOMANYTARGETS, [first_extra, "Too many targets"]);
            }
        };
        for nick in targets {
            match self.client.shared.hub.whois(nick) {
                Some(found) => self.whois_reply(&found),
                None => self.reply(ERR_NOSUCHNICK, [nick, "No such nick/channel"]),
            }
            self.reply(RPL_ENDOFWHOIS, [nick, "End of /WHOIS list"]);
        }
    }

    /// 311 or 314: `nick user host * :realname`.
    fn user_reply(&self, numeric: &str, who: &Identity) {
        let params = [&*who.nick, &who.user, &who.host, "*", &who.realname];
        self.reply(numeric, params);
    }

    fn whois_reply(&self, found: &Whois) {
        let who = &found.identity;
        let nick = who.nick.as_str();
        self.user_reply(RPL_WHOISUSER, who);
        // ":server 319 me nick :" + channels + CRLF
        let fixed = self.client.server_name().len() + self.me().len() + nick.len() + 12;
        let width = MAX_LINE_BYTES.saturating_sub(fixed);
        let all = self.caps.has(Caps::MULTI_PREFIX);
        let channels: Vec<String> = found
            .channels
            .iter()
            .map(|(name, rank)| format!("{}{name}", rank.symbols(all)))
            .collect();
        for line in pack_words(&channels, width) {
            self.reply(RPL_WHOISCHANNELS, [nick, line.as_str()]);
        }
        let server = self.client.server_name();
        self.reply(RPL_WHOISSERVER, [nick, server, "TCP Chat host"]);
        if let Some(reason) = &found.away {
            self.reply(RPL_AWAY, [nick, reason.as_str()]);
        }
        let (idle, signon) = (found.idle.to_string(), found.signon.to_string());
        let params = [
            nick,
            idle.as_str(),
            signon.as_str(),
            "seconds idle, signon time",
        ];
        self.reply(RPL_WHOISIDLE, params);
    }

    /// LIST [channel,…]: 322 for each existing channel, then 323.
    fn list(&self, message: &Message) {
        let names: Option<Vec<&str>> = message
            .param(0)
            .map(|list| list.split(',').filter(|n| !n.is_empty()).collect());
        for channel in self.client.shared.hub.list(names.as_deref()) {
            let count = channel.members.to_string();
            let topic = channel.topic.as_deref().unwrap_or_default();
            self.reply(RPL_LIST, [channel.name.as_str(), count.as_str(), topic]);
        }
        self.reply(RPL_LISTEND, ["End of /LIST"]);
    }

    /// USERHOST nick…: up to five `nick=+user@host` (`-` when away) in one 302.
    fn userhost(&self, message: &Message) {
        if message.params.is_empty() {
            return self.need_more_params("USERHOST");
        }
        let hub = &self.client.shared.hub;
        let found: Vec<String> = message
            .params
            .iter()
            .take(MAX_USERHOST_NICKS)
            .filter_map(|nick| hub.find_nick(nick))
            .map(|listed| {
                let who = &listed.identity;
                let here = if listed.away { '-' } else { '+' };
                format!("{}={here}{}@{}", who.nick, who.user, who.host)
            })
            .collect();
        self.reply(RPL_USERHOST, [found.join(" ").as_str()]);
    }

    /// ISON nick…: those of the nicks (in any parameter, space-separated)
    /// who are here, as they spell themselves, in one 303.
    fn ison(&self, message: &Message) {
        if message.params.is_empty() {
            return self.need_more_params("ISON");
        }
        let hub = &self.client.shared.hub;
        let mut found = Vec::new();
        for nick in message.params.iter().flat_map(|p| p.split(' ')) {
            if let Some(listed) = hub.find_nick(nick).filter(|_| !nick.is_empty()) {
                found.push(listed.identity.nick);
            }
        }
        // ":server 303 me :" + nicks + CRLF
        let fixed = self.client.server_name().len() + self.me().len() + 10;
        let nicks = pack_words(&found, MAX_LINE_BYTES - fixed);
        let first = nicks.first().map(String::as_str).unwrap_or_default();
        self.reply(RPL_ISON, [first]);
    }

    /// MOTD, TIME, VERSION and INFO: about this server, the only one (402
    /// when another is named).
    fn about_server(&self, message: &Message) {
        if let Some(server) = message.param(0) {
            if !same_name(server, self.client.server_name()) {
                return self.reply(ERR_NOSUCHSERVER, [server, "No such server"]);
            }
        }
        match message.command.as_str() {
            "MOTD" => self.motd(),
            "TIME" => self.time(),
            "VERSION" => self.version(),
            _ => self.info(),
        }
    }

    fn time(&self) {
        let now = jiff::ZonedDateTime::now();
        let text = now.strftime("%A %B %-d %Y -- %H:%M:%S %:z").to_string();
        self.reply(RPL_TIME, [self.client.server_name(), text.as_str()]);
    }

    fn version(&self) {
        let server = self.client.server_name();
        self.reply(RPL_VERSION, [VERSION, server, "TCP Chat host"]);
        self.isupport();
    }

    fn info(&self) {
        for line in info_lines() {
            self.reply(RPL_INFO, [line]);
        }
        self.reply(RPL_ENDOFINFO, ["End of /INFO list"]);
    }

    fn me(&self) -> &str {
        self.nick.as_deref().unwrap_or("*")
    }

    fn command(&mut self, message: &Message) {
        let client = self.client;
        let hub = &client.shared.hub;
        // JOIN's keys, in the order of its channels.
        let mut keys = message.param(1).unwrap_or_default().split(',');
        match message.command.as_str() {
            "NICK" => {
                if let Some(nick) = self.checked_nick(message) {
                    match hub.rename(self.client.id, &nick) {
                        Ok(()) => self.nick = Some(nick),
                        Err(err) => self.nick_error(&nick, err),
                    }
                }
            }
            "USER" | "PASS" => self.reply(ERR_ALREADYREGISTERED, ["You may not reregister"]),
            // JOIN 0 leaves every channel, as a PART of each would.
            "JOIN" if message.param(0) == Some("0") => {
                for channel in hub.channels_of(client.id) {
                    if let Err(err) = hub.part(client.id, &channel, None) {
                        self.channel_error(&channel, err);
                    }
                }
            }
            "JOIN" => self.for_each_target(message, "JOIN", |s, name| {
                let key = keys.next().filter(|k| !k.is_empty());
                if !is_channel_name(name) {
                    s.reply(ERR_NOSUCHCHANNEL, [name, "No such channel"]);
                } else if !s.client.shared.hub.may_join(s.client.id, name) {
                    s.reply(
                        ERR_TOOMANYCHANNELS,
                        [name, "You have joined too many channels"],
                    );
                } else {
                    s.join(name, key);
                }
            }),
            "PART" => self.for_each_target(message, "PART", |s, name| {
                let reason = message.param(1);
                if let Err(err) = s.client.shared.hub.part(s.client.id, name, reason) {
                    s.channel_error(name, err);
                }
            }),
            "PRIVMSG" => self.say(message, MessageKind::Privmsg),
            "NOTICE" => self.say(message, MessageKind::Notice),
            "TAGMSG" => self.tagmsg(message),
            "AWAY" => self.away(message.param(0)),
            "TOPIC" => self.topic(message),
            "MODE" => self.mode(message),
            "KICK" => self.kick(message),
            "INVITE" => self.invite(message),
            "WHOWAS" => self.whowas(message),
            "WHO" => self.who(message.param(0)),
            "NAMES" => match message.param(0) {
                Some(_) => self.for_each_target(message, "NAMES", |s, name| s.names(name)),
                None => self.reply(RPL_ENDOFNAMES, ["*", "End of /NAMES list"]),
            },
            "WHOIS" => self.whois(message),
            "LIST" => self.list(message),
            "LUSERS" => self.lusers(),
            "USERHOST" => self.userhost(message),
            "ISON" => self.ison(message),
            "MOTD" | "TIME" | "VERSION" | "INFO" => self.about_server(message),
            "CHATHISTORY" if hub.history().is_some() => self.chathistory(message),
            command => self.reply(ERR_UNKNOWNCOMMAND, [command, "Unknown command"]),
        }
    }

    /// Runs `each` for every comma-separated name in the first parameter.
    fn for_each_target(
        &mut self,
        message: &Message,
        command: &str,
        mut each: impl FnMut(&mut Self, &str),
    ) {
        match message.param(0) {
            Some(list) if !list.is_empty() => match distinct_targets(list) {
                // Nothing but commas names no target.
                Ok(targets) if targets.is_empty() => self.need_more_params(command),
                Ok(targets) => targets.into_iter().for_each(|n| each(self, n)),
                Err(first_extra) => {
                    self.reply(ERR_TOOMANYTARGETS, [first_extra, "Too many targets"])
                }
            },
            _ => self.need_more_params(command),
        }
    }

    fn channel_error(&self, name: &str, err: ChannelError) {
        self.channel_error_about(name, "", err);
    }

    /// The numeric for `err` about `channel` (and the member `nick` acted on).
    fn channel_error_about(&self, channel: &str, nick: &str, err: ChannelError) {
        match err {
            ChannelError::NoSuchChannel => {
                self.reply(ERR_NOSUCHCHANNEL, [channel, "No such channel"]);
            }
            ChannelError::NotOnChannel => {
                self.reply(ERR_NOTONCHANNEL, [channel, "You're not on that channel"]);
            }
            ChannelError::NotOperator => {
                self.reply(
                    ERR_CHANOPRIVSNEEDED,
                    [channel, "You're not channel operator"],
                );
            }
            ChannelError::NoSuchNick => self.reply(ERR_NOSUCHNICK, [nick, "No such nick/channel"]),
            ChannelError::TheyAreNotOn => self.reply(
                ERR_USERNOTINCHANNEL,
                [nick, channel, "They aren't on that channel"],
            ),
            ChannelError::AlreadyOn => {
                self.reply(ERR_USERONCHANNEL, [nick, channel, "is already on channel"]);
            }
            // 482 as InspIRCd answers for a member ranked above the operator.
            ChannelError::TheyAreTheHost => self.reply(
                ERR_CHANOPRIVSNEEDED,
                [channel, "You cannot do that to the room's host"],
            ),
        }
    }

    fn join_error(&self, channel: &str, err: JoinError) {
        let (numeric, text) = match err {
            JoinError::AlreadyMember => return,
            JoinError::Banned => (ERR_BANNEDFROMCHAN, "Cannot join channel (+b)"),
            JoinError::InviteOnly => (ERR_INVITEONLYCHAN, "Cannot join channel (+i)"),
            JoinError::BadKey => (ERR_BADCHANNELKEY, "Cannot join channel (+k)"),
            JoinError::Full => (ERR_CHANNELISFULL, "Cannot join channel (+l)"),
        };
        self.reply(numeric, [channel, text]);
    }

    fn join(&self, channel: &str, key: Option<&str>) {
        let width = self.names_width(channel);
        let hub = &self.client.shared.hub;
        match hub.join(self.client.id, channel, key, Some(width)) {
            Ok(Joined {
                channel,
                topic,
                names,
            }) => {
                if let Some(topic) = &topic {
                    self.show_topic(&channel, topic);
                }
                self.names_reply(&channel, &names);
            }
            Err(err) => self.join_error(channel, err),
        }
    }

    fn show_topic(&self, channel: &str, topic: &Topic) {
        self.reply(RPL_TOPIC, [channel, topic.text.as_str()]);
        let set_at = topic.set_at.to_string();
        self.reply(
            RPL_TOPICWHOTIME,
            [channel, topic.set_by.as_str(), set_at.as_str()],
        );
    }

    fn names(&self, channel: &str) {
        let width = self.names_width(channel);
        let all = self.caps.has(Caps::MULTI_PREFIX);
        if let Some((channel, names)) = self.client.shared.hub.names(channel, width, all) {
            self.names_reply(&channel, &names);
        } else {
            self.reply(RPL_ENDOFNAMES, [channel, "End of /NAMES list"]);
        }
    }

    /// Room for nicknames in a 353 about `channel`, so each stays under 512
    /// bytes. (Case folding keeps a channel name's length.)
    fn names_width(&self, channel: &str) -> usize {
        // ":server 353 me = #channel :" + names + CRLF
        let fixed = self.client.server_name().len() + self.me().len() + channel.len() + 16;
        MAX_LINE_BYTES.saturating_sub(fixed)
    }

    /// 353s, one per packed line of names, then 366.
    fn names_reply(&self, channel: &str, names: &[String]) {
        for line in names {
            self.reply(RPL_NAMREPLY, ["=", channel, line.as_str()]);
        }
        self.reply(RPL_ENDOFNAMES, [channel, "End of /NAMES list"]);
    }

    fn say(&self, message: &Message, kind: MessageKind) {
        let quiet = kind == MessageKind::Notice; // RFC 2812: never answer a NOTICE
        let Some(targets) = message.param(0).filter(|t| !t.is_empty()) else {
            if !quiet {
                self.reply(ERR_NORECIPIENT, ["No recipient given (PRIVMSG)"]);
            }
            return;
        };
        let Some(text) = message.param(1).filter(|t| !t.is_empty()) else {
            if !quiet {
                self.reply(ERR_NOTEXTTOSEND, ["No text to send"]);
            }
            return;
        };
        let targets = match distinct_targets(targets) {
            Ok(targets) if targets.is_empty() => {
                // Nothing but commas: no recipient.
                if !quiet {
                    self.reply(ERR_NORECIPIENT, ["No recipient given (PRIVMSG)"]);
                }
                return;
            }
            Ok(targets) => targets,
            Err(first_extra) => {
                if !quiet {
                    self.reply(ERR_TOOMANYTARGETS, [first_extra, "Too many targets"]);
                }
                return;
            }
        };
        // Client-only tags (`+typing`, our queue ids) go to those who read
        // tags; a client that did not ask for message-tags sends none.
        let client_tags = match &message.tags {
            Some(raw) if self.caps.has(Caps::MESSAGE_TAGS) => tags::client_only(raw),
            _ => String::new(),
        };
        for target in targets {
            let result =
                self.client
                    .shared
                    .hub
                    .say(self.client.id, kind, target, text, &client_tags);
            match result {
                Ok(said) => {
                    if let Some(reason) = said.away.filter(|_| !quiet) {
                        self.reply(RPL_AWAY, [target, reason.as_str()]);
                    }
                }
                Err(_) if quiet => {}
                Err(err) => self.say_error(target, err),
            }
        }
    }

    fn say_error(&self, target: &str, err: SayError) {
        match err {
            SayError::NoSuchNick => self.reply(ERR_NOSUCHNICK, [target, "No such nick/channel"]),
            SayError::NoSuchChannel => self.reply(ERR_NOSUCHCHANNEL, [target, "No such channel"]),
            SayError::CannotSendToChannel => {
                self.reply(ERR_CANNOTSENDTOCHAN, [target, "Cannot send to channel"]);
            }
        }
    }

    /// IRCv3 TAGMSG: only the client-only tags travel, only between clients
    /// that took message-tags (a client without it has no tags to send).
    fn tagmsg(&self, message: &Message) {
        let Some(targets) = message.param(0).filter(|t| !t.is_empty()) else {
            return self.need_more_params("TAGMSG");
        };
        let targets = match distinct_targets(targets) {
            Ok(targets) if targets.is_empty() => return self.need_more_params("TAGMSG"),
            Ok(targets) => targets,
            Err(first_extra) => {
                return self.reply(ERR_TOOMANYTARGETS, [first_extra, "Too many targets"]);
            }
        };
        let client_tags = match &message.tags {
            Some(raw) if self.caps.has(Caps::MESSAGE_TAGS) => tags::client_only(raw),
            _ => String::new(),
        };
        if client_tags.is_empty() {
            return; // nothing to tell anyone
        }
        for target in targets {
            let hub = &self.client.shared.hub;
            if let Err(err) = hub.tag(self.client.id, target, &client_tags) {
                self.say_error(target, err);
            }
        }
    }

    /// `AWAY :reason` marks us away, `AWAY` (or an empty reason) back.
    fn away(&self, reason: Option<&str>) {
        if self.client.shared.hub.set_away(self.client.id, reason) {
            self.reply(RPL_NOWAWAY, ["You have been marked as being away"]);
        } else {
            self.reply(RPL_UNAWAY, ["You are no longer marked as being away"]);
        }
    }

    fn topic(&self, message: &Message) {
        let hub = &self.client.shared.hub;
        let Some(channel) = message.param(0) else {
            return self.need_more_params("TOPIC");
        };
        let result = match message.param(1) {
            Some(text) => hub.set_topic(self.client.id, channel, text),
            None => hub
                .topic(self.client.id, channel)
                .map(|(name, topic)| match topic {
                    Some(topic) => self.show_topic(&name, &topic),
                    None => self.reply(RPL_NOTOPIC, [name.as_str(), "No topic is set"]),
                }),
        };
        if let Err(err) = result {
            self.channel_error(channel, err);
        }
    }

    /// A channel's modes (324, 329), its ban list (367, 368) or changes to
    /// them; a user's own `+i`.
    fn mode(&mut self, message: &Message) {
        let Some(target) = message.param(0) else {
            return self.need_more_params("MODE");
        };
        let change = message.param(1);
        if is_channel_name(target) {
            match change {
                None => self.show_modes(target),
                Some(change) => self.channel_mode(target, change, &message.params[2..]),
            }
        } else if !same_name(target, self.me()) {
            if self.client.shared.hub.find_nick(target).is_some() {
                self.reply(ERR_USERSDONTMATCH, ["Can't change mode for other users"]);
            } else {
                self.reply(ERR_NOSUCHNICK, [target, "No such nick/channel"]);
            }
        } else if let Some(change) = change {
            self.user_mode(change);
        } else {
            self.reply(RPL_UMODEIS, [if self.invisible { "+i" } else { "+" }]);
        }
    }

    fn show_modes(&self, channel: &str) {
        match self.client.shared.hub.modes(self.client.id, channel) {
            Ok(shown) => {
                let name = shown.channel.as_str();
                let params = std::iter::once(name).chain(shown.modes.iter().map(String::as_str));
                self.reply(RPL_CHANNELMODEIS, params);
                let created = shown.created.to_string();
                self.reply(RPL_CREATIONTIME, [name, created.as_str()]);
            }
            Err(err) => self.channel_error(channel, err),
        }
    }

    fn channel_mode(&self, channel: &str, change: &str, args: &[String]) {
        let hub = &self.client.shared.hub;
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let changes = HOST_MODES.parse(change, &args);
        // `MODE #chan b` (or `+b`) with no mask asks for the ban list.
        let asks_bans =
            !changes.is_empty() && changes.iter().all(|c| c.mode == 'b' && c.arg.is_none());
        if asks_bans {
            return match hub.bans(channel) {
                Ok((name, bans)) => {
                    for ban in &bans {
                        let set_at = ban.set_at.to_string();
                        let params = [name.as_str(), &ban.mask, &ban.set_by, &set_at];
                        self.reply(RPL_BANLIST, params);
                    }
                    self.reply(RPL_ENDOFBANLIST, [name.as_str(), "End of channel ban list"]);
                }
                Err(err) => self.channel_error(channel, err),
            };
        }
        match hub.change_modes(self.client.id, channel, &changes) {
            Ok(refusals) => {
                for refusal in refusals {
                    self.mode_refusal(channel, &refusal);
                }
            }
            Err(err) => self.channel_error(channel, err),
        }
    }

    fn mode_refusal(&self, channel: &str, refusal: &ModeRefusal) {
        match refusal {
            ModeRefusal::NeedsParam(_) => self.need_more_params("MODE"),
            ModeRefusal::Unknown(mode) => {
                let mode = mode.to_string();
                self.reply(
                    ERR_UNKNOWNMODE,
                    [mode.as_str(), "is unknown mode char to me"],
                );
            }
            ModeRefusal::NoSuchNick(nick) => {
                self.channel_error_about(channel, nick, ChannelError::NoSuchNick);
            }
            ModeRefusal::TheyAreNotOn(nick) => {
                self.channel_error_about(channel, nick, ChannelError::TheyAreNotOn);
            }
            ModeRefusal::TheyAreTheHost(nick) => {
                self.channel_error_about(channel, nick, ChannelError::TheyAreTheHost);
            }
            ModeRefusal::BanListFull(mask) => {
                let text = "Channel ban list is full";
                self.reply(ERR_BANLISTFULL, [channel, mask.as_str(), text]);
            }
        }
    }

    /// KICK #channel nick[,nick…] [reason].
    fn kick(&self, message: &Message) {
        let (Some(channel), Some(nicks)) = (message.param(0), message.param(1)) else {
            return self.need_more_params("KICK");
        };
        let nicks = match distinct_targets(nicks) {
            Ok(nicks) if nicks.is_empty() => return self.need_more_params("KICK"),
            Ok(nicks) => nicks,
            Err(first_extra) => {
                return self.reply(ERR_TOOMANYTARGETS, [first_extra, "Too many targets"]);
            }
        };
        let hub = &self.client.shared.hub;
        for nick in nicks {
            if let Err(err) = hub.kick(self.client.id, channel, nick, message.param(2)) {
                self.channel_error_about(channel, nick, err);
                if matches!(
                    err,
                    ChannelError::NoSuchChannel | ChannelError::NotOnChannel
                ) {
                    return; // the same for every nick
                }
            }
        }
    }

    /// INVITE nick #channel: 341 to us, INVITE to them (and 301 if away).
    fn invite(&self, message: &Message) {
        let (Some(nick), Some(channel)) = (message.param(0), message.param(1)) else {
            return self.need_more_params("INVITE");
        };
        let hub = &self.client.shared.hub;
        match hub.invite(self.client.id, nick, channel) {
            Ok((nick, away)) => {
                let name = hub
                    .channel_name(channel)
                    .unwrap_or_else(|| channel.to_owned());
                self.reply(RPL_INVITING, [nick.as_str(), name.as_str()]);
                if let Some(reason) = away {
                    self.reply(RPL_AWAY, [nick.as_str(), reason.as_str()]);
                }
            }
            Err(err) => self.channel_error_about(channel, nick, err),
        }
    }

    /// WHOWAS nick [count]: 314 and 312 for each time it was used (the
    /// newest first), or 406; then 369.
    fn whowas(&self, message: &Message) {
        let Some(nick) = message.param(0).filter(|n| !n.is_empty()) else {
            return self.reply(ERR_NONICKNAMEGIVEN, ["No nickname given"]);
        };
        let count = message
            .param(1)
            .and_then(|c| c.parse::<usize>().ok())
            .filter(|c| *c > 0)
            .map_or(MAX_WHOWAS_REPLIES, |c| c.min(MAX_WHOWAS_REPLIES));
        let found = self.client.shared.hub.whowas(nick, count);
        if found.is_empty() {
            self.reply(ERR_WASNOSUCHNICK, [nick, "There was no such nickname"]);
        }
        let server = self.client.server_name();
        for who in &found {
            self.user_reply(RPL_WHOWASUSER, who);
            self.reply(
                RPL_WHOISSERVER,
                [who.nick.as_str(), server, "TCP Chat host"],
            );
        }
        self.reply(RPL_ENDOFWHOWAS, [nick, "End of WHOWAS"]);
    }

    fn user_mode(&mut self, change: &str) {
        let mut adding = true;
        let mut applied = String::new();
        let mut unknown = false;
        for flag in change.chars() {
            match flag {
                '+' => adding = true,
                '-' => adding = false,
                'i' if adding != self.invisible => {
                    self.invisible = adding;
                    applied.push(if adding { '+' } else { '-' });
                    applied.push('i');
                }
                'i' => {}
                _ => unknown = true,
            }
        }
        if unknown {
            self.reply(ERR_UMODEUNKNOWNFLAG, ["Unknown MODE flag"]);
        }
        if !applied.is_empty() {
            let me = self.me().to_owned();
            self.client.send(
                &Message::new("MODE", [me.as_str(), applied.as_str()]).with_prefix(me.as_str()),
            );
        }
    }

    fn who(&self, mask: Option<&str>) {
        let mask = mask.unwrap_or("*");
        let hub = &self.client.shared.hub;
        if is_channel_name(mask) {
            if let Some((channel, members)) = hub.members(mask) {
                members.iter().for_each(|m| self.who_reply(&channel, m));
            }
        } else if let Some(listed) = hub.find_nick(mask) {
            self.who_reply("*", &listed);
        }
        self.reply(RPL_ENDOFWHO, [mask, "End of WHO list"]);
    }

    /// Checks a CHATHISTORY request; the query itself runs after this line
    /// (see [`Session::answer_history`]).
    fn chathistory(&mut self, message: &Message) {
        let server = self.client.server_name().to_owned();
        match chathistory::parse(&message.params) {
            Ok(Request::Lines {
                subcommand, target, ..
            }) if is_channel_name(&target)
                && !self.client.shared.hub.is_member(self.client.id, &target) =>
            {
                // Only members read a room's history.
                let fail = Fail::new(
                    "INVALID_TARGET",
                    &[subcommand.as_str(), target.as_str()],
                    "Messages could not be retrieved",
                );
                self.client.send(&fail.to_message(&server));
            }
            Ok(request) => self.history_request = Some(Box::new(request)),
            Err(fail) => self.client.send(&fail.to_message(&server)),
        }
    }

    /// Reads the database off the runtime's threads, then answers in a
    /// batch (for clients that take batches).
    async fn answer_history(&mut self, request: Request) {
        let Some(history) = self.client.shared.hub.history().cloned() else {
            return;
        };
        let query = request.clone();
        let room_key = match &request {
            Request::Lines { target, .. } => fold_case(target),
            Request::Targets { .. } => String::new(),
        };
        // Everything relayed before this request is in the answer: a client
        // back from a lost connection must find the line it wrote just before.
        let found = tokio::task::spawn_blocking(move || {
            history.flush();
            query_history(&history, query, &room_key)
        })
        .await;
        let server = self.client.server_name().to_owned();
        let (subcommand, target) = match &request {
            Request::Lines {
                subcommand, target, ..
            } => (subcommand.as_str(), target.as_str()),
            Request::Targets { .. } => ("TARGETS", "*"),
        };
        let failure = match found {
            Ok(Ok(found)) => Ok(found),
            Ok(Err(err)) => Err(err.to_string()),
            Err(err) => Err(err.to_string()),
        };
        let found = match failure {
            Ok(found) => found,
            Err(err) => {
                log::warn!("history query failed: {err}");
                let fail = Fail::new(
                    "MESSAGE_ERROR",
                    &[subcommand, target],
                    "Messages could not be retrieved",
                );
                self.client.send(&fail.to_message(&server));
                return;
            }
        };
        let batch = self.open_batch(match &found {
            Found::Lines(_) => vec!["chathistory", target],
            Found::Targets(_) => vec!["draft/chathistory-targets"],
        });
        match found {
            Found::Lines(lines) => {
                for line in &lines {
                    let replayed = chathistory::replay(line, self.caps, batch.as_deref());
                    self.client.send(&replayed);
                }
            }
            Found::Targets(rooms) => {
                for (room, latest_ms) in rooms {
                    if !self.client.shared.hub.is_member(self.client.id, &room) {
                        continue; // not one of this client's rooms
                    }
                    let when = time::format_ms(latest_ms);
                    let mut line = Message::new("CHATHISTORY", ["TARGETS", room.as_str(), &when])
                        .with_prefix(server.as_str());
                    line.tags = batch.as_deref().map(|b| tags::build([("batch", b)], ""));
                    self.client.send(&line);
                }
            }
        }
        if let Some(batch) = batch {
            let end = format!("-{batch}");
            self.client
                .send(&Message::new("BATCH", [end.as_str()]).with_prefix(server.as_str()));
        }
    }

    /// Starts a batch of `kind` (with its parameters) when the client takes
    /// batches; its reference tag.
    fn open_batch(&mut self, kind: Vec<&str>) -> Option<String> {
        if !self.caps.has(Caps::BATCH) {
            return None;
        }
        self.batches += 1;
        let reference = self.batches.to_string();
        let start = format!("+{reference}");
        let params = std::iter::once(start.as_str()).chain(kind);
        let server = self.client.server_name();
        self.client
            .send(&Message::new("BATCH", params).with_prefix(server));
        Some(reference)
    }

    /// One 352; the flags say Here or Gone (away).
    fn who_reply(&self, channel: &str, listed: &Listed) {
        let who = &listed.identity;
        let here = if listed.away { "G" } else { "H" };
        let flags = format!(
            "{here}{}",
            listed.rank.symbols(self.caps.has(Caps::MULTI_PREFIX))
        );
        let hops_and_name = format!("0 {}", who.realname);
        let server = self.client.server_name();
        let params = [
            channel,
            who.user.as_str(),
            who.host.as_str(),
            server,
            who.nick.as_str(),
            flags.as_str(),
            hops_and_name.as_str(),
        ];
        self.reply(RPL_WHOREPLY, params);
    }
}

/// What a history query found.
enum Found {
    Lines(Vec<super::history::StoredLine>),
    Targets(Vec<(String, i64)>),
}

/// Runs a CHATHISTORY request against the database (blocking).
fn query_history(
    history: &super::history::History,
    request: Request,
    room_key: &str,
) -> Result<Found, super::history::HistoryError> {
    match request {
        Request::Lines {
            target,
            selector,
            limit,
            ..
        } => {
            if !chathistory::is_kept(&target) || limit == 0 {
                return Ok(Found::Lines(Vec::new()));
            }
            history.query(room_key, &selector, limit).map(Found::Lines)
        }
        Request::Targets {
            from_ms,
            to_ms,
            limit,
        } => history.targets(from_ms, to_ms, limit).map(Found::Targets),
    }
}

/// A user name as it may appear in a prefix: no spaces, `!` or `@`.
fn clean_user(raw: &str) -> String {
    let user: String = raw
        .chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, '!' | '@' | ':'))
        .take(MAX_NICK_LEN)
        .collect();
    if user.is_empty() {
        "user".to_owned()
    } else {
        user
    }
}

/// Space-separated words packed into lines of at most `budget` bytes. Each
/// word is written straight into its line: NAMES of a big room packs
/// thousands, and a String per word was most of a join storm's host CPU.
pub(super) fn pack_words<W: std::fmt::Display>(
    words: impl IntoIterator<Item = W>,
    budget: usize,
) -> Vec<String> {
    use std::fmt::Write as _;
    let mut lines = Vec::new();
    let mut current = String::with_capacity(budget);
    for word in words {
        let start = current.len();
        if start > 0 {
            current.push(' ');
        }
        // Writing to a String cannot fail.
        let _ = write!(current, "{word}");
        if start > 0 && current.len() > budget {
            // Too long with this word: it starts the next line.
            let mut next = String::with_capacity(budget);
            next.push_str(&current[start + 1..]);
            current.truncate(start);
            lines.push(std::mem::replace(&mut current, next));
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// `entries` (words separated by single spaces) cut at spaces into lines
/// of at most `width` bytes, packed as [`pack_words`] packs them: only
/// slices of `entries`, so a channel's NAMES kept packed costs a request
/// no more than the copies of its lines. A word longer than `width` is a
/// line of its own.
pub(super) fn pack_spaced(entries: &str, width: usize) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = entries.trim_start_matches(' ');
    while !rest.is_empty() {
        if rest.len() <= width {
            lines.push(rest);
            break;
        }
        // The last space that leaves the line within `width`, or else the
        // end of the first word.
        let bytes = rest.as_bytes();
        let cut = bytes[..=width]
            .iter()
            .rposition(|&b| b == b' ')
            .or_else(|| bytes.iter().position(|&b| b == b' '))
            .unwrap_or(rest.len());
        lines.push(&rest[..cut]);
        rest = rest[cut..].trim_start_matches(' ');
    }
    lines
}

/// Most distinct targets one PRIVMSG, NOTICE, JOIN, PART or NAMES may name:
/// without a cap one line would be relayed once per repeated target.
const MAX_TARGETS: usize = 4;
/// Nicknames one USERHOST answers for (RFC 2812).
const MAX_USERHOST_NICKS: usize = 5;
/// Entries one WHOWAS answers with at most.
const MAX_WHOWAS_REPLIES: usize = 10;
/// Longest real name kept: WHO replies carry it after the prefix-sized fields.
const MAX_REALNAME_BYTES: usize = 100;

/// The comma-separated names of `list`, each once (ignoring case), or the
/// first name past [`MAX_TARGETS`].
fn distinct_targets(list: &str) -> Result<Vec<&str>, &str> {
    let mut seen = std::collections::HashSet::new();
    let mut targets = Vec::new();
    for name in list.split(',').filter(|n| !n.is_empty()) {
        if seen.insert(fold_case(name)) {
            if targets.len() == MAX_TARGETS {
                return Err(name);
            }
            targets.push(name);
        }
    }
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_commands_are_recognised() {
        for line in ["NICK a", "USER a 0 * :A", "CAP LS 302", "PASS x", "CAP"] {
            assert!(is_registration(line), "{line}");
        }
        for line in ["hello", "", "PRIVMSG #chat :hi", "nick", "User", "NICKNAME"] {
            assert!(!is_registration(line), "{line}");
        }
    }

    #[test]
    fn words_are_packed_within_the_budget() {
        let words: Vec<String> = (0..100).map(|i| format!("nick{i}")).collect();
        let lines = pack_words(&words, 50);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.len() <= 50));
        assert_eq!(lines.join(" "), words.join(" "));
        // Every line but the last is as full as the next word allows.
        for pair in lines.windows(2) {
            let next_word = pair[1].split(' ').next().unwrap_or_default();
            assert!(pair[0].len() + 1 + next_word.len() > 50, "{pair:?}");
        }
    }

    #[test]
    fn spaced_entries_are_cut_as_words_are_packed() {
        let words: Vec<String> = (0..300)
            .map(|i| {
                format!(
                    "{}nick{i}{}",
                    ["", "@", "+", "@+"][i % 4],
                    "x".repeat(i % 23)
                )
            })
            .collect();
        let spaced = words.join(" ");
        for width in [
            0,
            1,
            5,
            10,
            27,
            50,
            100,
            400,
            512,
            spaced.len(),
            spaced.len() + 1,
        ] {
            assert_eq!(
                pack_spaced(&spaced, width),
                pack_words(&words, width),
                "width {width}"
            );
        }
        assert!(pack_spaced("", 10).is_empty());
        assert_eq!(pack_spaced("a", 10), ["a"]);
        // A word too long for any line stands alone.
        assert_eq!(pack_spaced("ab abcdef c d", 4), ["ab", "abcdef", "c d"]);
    }

    #[test]
    fn user_names_lose_what_would_break_a_prefix() {
        assert_eq!(clean_user("a@b!c d"), "abcd");
        assert_eq!(clean_user("@@"), "user");
    }
}

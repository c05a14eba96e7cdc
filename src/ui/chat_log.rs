//! The room's log: a read-only `TextView` with tags, which stays fast at
//! 100,000 lines. It stays pinned to the newest line unless the person
//! scrolls up; then a "Jump to Latest" button appears instead.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::HashMap;

use adw::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{gdk, gio, glib};

use super::linkify;
use super::log_entry::{Kind, LogEntry};
use super::palette;
use crate::i18n::gettext;

mod search;

use search::{Search, SearchTags};

/// Lines kept; older ones are dropped in slices of a tenth, not one by one.
pub const DEFAULT_LINE_LIMIT: usize = 100_000;
/// Within this many pixels of the end counts as "at the newest line".
const BOTTOM_SLACK: f64 = 8.0;

/// The time column's scale, relative to the log's text.
const TIME_SCALE: f64 = 0.85;
/// What separates the time from the rest of a line.
const TIME_GAP: &str = "  ";

/// Emitted when the search's match count or current match changes.
const MATCHES_CHANGED: &str = "matches-changed";
/// Where the view scrolls to show the current match.
const CURRENT_MATCH_MARK: &str = "current-match";

/// The tags every line draws from, made once per log.
#[derive(Debug)]
struct Tags {
    time: gtk::TextTag,
    /// Our line on its way; below the nick colours, which stay.
    pending: gtk::TextTag,
    /// History from before we joined; below the nick colours too.
    earlier: gtk::TextTag,
    nicks: Vec<gtk::TextTag>,
    own_line: gtk::TextTag,
    action: gtk::TextTag,
    /// A line that names the person.
    mention: gtk::TextTag,
    notice: gtk::TextTag,
    system: gtk::TextTag,
    error: gtk::TextTag,
    divider: gtk::TextTag,
    /// "New messages", in the accent colour.
    unread: gtk::TextTag,
    /// The "sending…" after a pending line.
    marker: gtk::TextTag,
    link: gtk::TextTag,
    /// Made last: a search's highlighting shows over every other tag.
    search: SearchTags,
}

/// A palette tint as GDK takes it.
fn rgba((red, green, blue, alpha): palette::Tint) -> gdk::RGBA {
    gdk::RGBA::new(red as f32, green as f32, blue as f32, alpha as f32)
}

impl Tags {
    fn new(table: &gtk::TextTagTable) -> Self {
        let add = |tag: gtk::TextTag| {
            table.add(&tag);
            tag
        };
        Tags {
            time: add(gtk::TextTag::builder().scale(TIME_SCALE).build()),
            pending: add(gtk::TextTag::new(None::<&str>)),
            earlier: add(gtk::TextTag::new(None::<&str>)),
            nicks: (0..palette::COLOURS)
                .map(|_| add(gtk::TextTag::builder().weight(700).build()))
                .collect(),
            own_line: add(gtk::TextTag::builder()
                .paragraph_background_rgba(&rgba(palette::OWN_LINE_TINT))
                .build()),
            action: add(gtk::TextTag::builder()
                .style(gtk::pango::Style::Italic)
                .build()),
            mention: add(gtk::TextTag::new(None::<&str>)),
            notice: add(gtk::TextTag::builder().scale(0.95).build()),
            system: add(gtk::TextTag::builder().scale(0.9).build()),
            error: add(gtk::TextTag::new(None::<&str>)),
            divider: add(heading()),
            unread: add(heading()),
            marker: add(gtk::TextTag::builder()
                .scale(TIME_SCALE)
                .style(gtk::pango::Style::Italic)
                .build()),
            link: add(gtk::TextTag::builder()
                .underline(gtk::pango::Underline::Single)
                .build()),
            search: SearchTags {
                found: add(gtk::TextTag::new(None::<&str>)),
                current: add(gtk::TextTag::new(None::<&str>)),
            },
        }
    }

    /// Colours that read well on the current (light or dark) background.
    fn set_colours(&self, dark: bool) {
        let paint = |tag: &gtk::TextTag, hex: &str| {
            tag.set_foreground_rgba(gdk::RGBA::parse(hex).ok().as_ref());
        };
        for (slot, tag) in self.nicks.iter().enumerate() {
            paint(tag, palette::colour(slot, dark));
        }
        let palette::TextColours { quiet, error, link } = palette::text_colours(dark);
        let mention = rgba(palette::mention_tint(dark));
        self.mention.set_paragraph_background_rgba(Some(&mention));
        for tag in [
            &self.time,
            &self.system,
            &self.notice,
            &self.pending,
            &self.earlier,
            &self.divider,
            &self.marker,
        ] {
            paint(tag, quiet);
        }
        paint(&self.error, error);
        paint(&self.link, link);
        paint(&self.unread, link);
        // Yellow for every match, orange for the current one; translucent
        // on dark so light text stays readable over them.
        let (found, current) = if dark {
            ("rgba(245, 194, 17, 0.35)", "rgba(255, 120, 0, 0.75)")
        } else {
            ("#f9f06b", "#ffa348")
        };
        for (tag, colour) in [(&self.search.found, found), (&self.search.current, current)] {
            tag.set_background_rgba(gdk::RGBA::parse(colour).ok().as_ref());
        }
    }

    fn for_kind(&self, kind: Kind) -> Option<&gtk::TextTag> {
        match kind {
            Kind::Chat => None,
            Kind::Action => Some(&self.action),
            Kind::Notice => Some(&self.notice),
            Kind::System => Some(&self.system),
            Kind::Error => Some(&self.error),
            Kind::Divider => Some(&self.divider),
            Kind::Unread => Some(&self.unread),
        }
    }
}

mod imp {
    use super::*;

    #[derive(Debug, gtk::CompositeTemplate)]
    #[template(resource = "/io/github/tcpchat/TcpChat/ui/chat-log.ui")]
    pub struct TcpChatLog {
        #[template_child]
        pub(super) scroller: TemplateChild<gtk::ScrolledWindow>,
        #[template_child]
        pub(super) text_view: TemplateChild<gtk::TextView>,
        #[template_child]
        pub(super) jump_button: TemplateChild<gtk::Button>,
        pub(super) tags: OnceCell<Tags>,
        /// Follow new lines; false once the person scrolls up.
        pub(super) pinned: Cell<bool>,
        pub(super) lines: Cell<usize>,
        pub(super) line_limit: Cell<usize>,
        /// The next appended line opens the session (see `mark_session_start`).
        pub(super) session_starts_next: Cell<bool>,
        /// The start of the line that opened the session: earlier history
        /// goes above it.
        pub(super) session_start: RefCell<Option<gtk::TextMark>>,
        /// Our lines on their way, by outbox id: where their "sending…" starts.
        pub(super) pending: RefCell<HashMap<u64, gtk::TextMark>>,
        /// The start of the "New messages" line, if one is shown.
        pub(super) unread: RefCell<Option<gtk::TextMark>>,
        /// The open search, if any; kept up to date as the text changes.
        pub(super) search: RefCell<Search>,
    }

    impl Default for TcpChatLog {
        fn default() -> Self {
            TcpChatLog {
                scroller: TemplateChild::default(),
                text_view: TemplateChild::default(),
                jump_button: TemplateChild::default(),
                tags: OnceCell::new(),
                pinned: Cell::new(true),
                lines: Cell::new(0),
                line_limit: Cell::new(DEFAULT_LINE_LIMIT),
                session_starts_next: Cell::new(false),
                session_start: RefCell::new(None),
                pending: RefCell::new(HashMap::new()),
                unread: RefCell::new(None),
                search: RefCell::new(Search::default()),
            }
        }
    }

    #[glib::object_subclass]
    impl ObjectSubclass for TcpChatLog {
        const NAME: &'static str = "TcpChatLog";
        type Type = super::TcpChatLog;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            adw::ButtonContent::ensure_type();
            klass.bind_template();
            klass.bind_template_callbacks();
        }

        fn instance_init(obj: &glib::subclass::InitializingObject<Self>) {
            obj.init_template();
        }
    }

    #[gtk::template_callbacks]
    impl TcpChatLog {
        #[template_callback]
        pub(super) fn jump_to_latest(&self) {
            self.set_pinned(true);
            self.stick_to_bottom();
        }

        pub(super) fn set_pinned(&self, pinned: bool) {
            self.pinned.set(pinned);
            self.jump_button.set_visible(!pinned);
        }

        pub(super) fn stick_to_bottom(&self) {
            let adjustment = self.scroller.vadjustment();
            // Not before the log has a height: the text view would keep
            // that offset as its own when the adjustment is later clamped
            // back to 0 (no value-changed), leaving the first lines above
            // the top of a log that does not even fill the page.
            if adjustment.page_size() <= 0.0 {
                return;
            }
            adjustment.set_value(adjustment.upper() - adjustment.page_size());
        }

        pub(super) fn at_bottom(&self) -> bool {
            let adjustment = self.scroller.vadjustment();
            adjustment.value() + adjustment.page_size() >= adjustment.upper() - BOTTOM_SLACK
        }

        /// GTK moves the value by itself while it lays out and validates
        /// lines (even back to the top), so only the person's own input
        /// unpins; any move while pinned is put back at the end, and
        /// reaching the end pins again.
        fn on_moved(&self) {
            match (self.pinned.get(), self.at_bottom()) {
                (true, false) => self.stick_to_bottom(),
                (false, true) => self.set_pinned(true),
                _ => {}
            }
        }

        fn setup_scrolling(&self) {
            let adjustment = self.scroller.vadjustment();
            for signal in ["value-changed", "changed"] {
                adjustment.connect_local(
                    signal,
                    false,
                    glib::clone!(
                        #[weak(rename_to = this)]
                        self,
                        #[upgrade_or]
                        None,
                        move |_| {
                            this.on_moved();
                            None
                        }
                    ),
                );
            }
            // The person's ways up: wheel or touchpad, keys, the scrollbar.
            let wheel = gtk::EventControllerScroll::new(gtk::EventControllerScrollFlags::VERTICAL);
            wheel.set_propagation_phase(gtk::PropagationPhase::Capture);
            wheel.connect_scroll(glib::clone!(
                #[weak(rename_to = this)]
                self,
                #[upgrade_or]
                glib::Propagation::Proceed,
                move |_, _, dy| {
                    if dy < 0.0 {
                        this.set_pinned(false);
                    }
                    glib::Propagation::Proceed
                }
            ));
            self.scroller.add_controller(wheel);
            let keys = gtk::EventControllerKey::new();
            keys.set_propagation_phase(gtk::PropagationPhase::Capture);
            keys.connect_key_pressed(glib::clone!(
                #[weak(rename_to = this)]
                self,
                #[upgrade_or]
                glib::Propagation::Proceed,
                move |_, key, _, _| {
                    use gdk::Key;
                    if [
                        Key::Page_Up,
                        Key::Up,
                        Key::Home,
                        Key::KP_Page_Up,
                        Key::KP_Up,
                        Key::KP_Home,
                    ]
                    .contains(&key)
                    {
                        this.set_pinned(false);
                    }
                    glib::Propagation::Proceed
                }
            ));
            self.text_view.add_controller(keys);
            let grab = gtk::GestureClick::new();
            grab.set_propagation_phase(gtk::PropagationPhase::Capture);
            grab.connect_pressed(glib::clone!(
                #[weak(rename_to = this)]
                self,
                move |_, _, _, _| this.set_pinned(false)
            ));
            self.scroller.vscrollbar().add_controller(grab);
        }

        fn setup_links(&self) {
            let click = gtk::GestureClick::builder()
                .button(gdk::BUTTON_PRIMARY)
                .build();
            click.connect_released(glib::clone!(
                #[weak(rename_to = this)]
                self,
                move |_, _, x, y| {
                    if !this.text_view.buffer().has_selection() {
                        if let Some(link) = this.link_at(x, y) {
                            this.obj().open_link(&link);
                        }
                    }
                }
            ));
            self.text_view.add_controller(click);
            let motion = gtk::EventControllerMotion::new();
            motion.connect_motion(glib::clone!(
                #[weak(rename_to = this)]
                self,
                move |_, x, y| {
                    let cursor = if this.link_at(x, y).is_some() {
                        "pointer"
                    } else {
                        "text"
                    };
                    this.text_view.set_cursor_from_name(Some(cursor));
                }
            ));
            self.text_view.add_controller(motion);
        }

        /// The link under widget point (x, y), if any.
        fn link_at(&self, x: f64, y: f64) -> Option<String> {
            let link_tag = &self.tags.get()?.link;
            let (bx, by) = self.text_view.window_to_buffer_coords(
                gtk::TextWindowType::Widget,
                x as i32,
                y as i32,
            );
            let inside = self.text_view.iter_at_location(bx, by)?;
            if !inside.has_tag(link_tag) {
                return None;
            }
            let mut start = inside;
            if !start.starts_tag(Some(link_tag)) {
                start.backward_to_tag_toggle(Some(link_tag));
            }
            let mut end = inside;
            end.forward_to_tag_toggle(Some(link_tag));
            Some(
                self.text_view
                    .buffer()
                    .text(&start, &end, false)
                    .to_string(),
            )
        }

        /// Wrapped lines continue under the text, not under the time (a
        /// negative indent is Pango's hanging indent: every line but the
        /// first moves right by it).
        fn setup_hanging_indent(&self) {
            self.text_view.connect_map(|view| {
                let width =
                    |text: &str| f64::from(view.create_pango_layout(Some(text)).pixel_size().0);
                let column = (width("00:00") * TIME_SCALE + width(TIME_GAP)).round() as i32;
                view.set_indent(-column);
            });
        }

        fn setup_colours(&self) {
            let style = adw::StyleManager::default();
            if let Some(tags) = self.tags.get() {
                tags.set_colours(style.is_dark());
            }
            style.connect_dark_notify(glib::clone!(
                #[weak(rename_to = this)]
                self,
                move |style| {
                    if let Some(tags) = this.tags.get() {
                        tags.set_colours(style.is_dark());
                    }
                }
            ));
        }
    }

    impl ObjectImpl for TcpChatLog {
        fn signals() -> &'static [glib::subclass::Signal] {
            static SIGNALS: std::sync::OnceLock<Vec<glib::subclass::Signal>> =
                std::sync::OnceLock::new();
            SIGNALS.get_or_init(|| vec![glib::subclass::Signal::builder(MATCHES_CHANGED).build()])
        }

        fn constructed(&self) {
            self.parent_constructed();
            let _ = self
                .tags
                .set(Tags::new(&self.text_view.buffer().tag_table()));
            self.setup_colours();
            self.setup_hanging_indent();
            self.setup_scrolling();
            self.setup_links();
        }

        fn dispose(&self) {
            self.dispose_template();
            crate::ui::unparent_children(&*self.obj());
        }
    }

    impl WidgetImpl for TcpChatLog {}
}

glib::wrapper! {
    pub struct TcpChatLog(ObjectSubclass<imp::TcpChatLog>)
        @extends gtk::Widget,
        @implements gtk::Buildable, gtk::ConstraintTarget;
}

impl Default for TcpChatLog {
    fn default() -> Self {
        Self::new()
    }
}

impl TcpChatLog {
    pub fn new() -> Self {
        glib::Object::new()
    }

    /// Adds `entries` at the end in one go (one layout pass for a batch),
    /// then drops the oldest lines beyond the limit.
    pub fn append(&self, entries: &[LogEntry]) {
        let imp = self.imp();
        let Some(tags) = imp.tags.get() else { return };
        if entries.is_empty() {
            return;
        }
        self.insert_entries(tags, entries);
    }

    fn insert_entries(&self, tags: &Tags, entries: &[LogEntry]) {
        let imp = self.imp();
        let buffer = imp.text_view.buffer();
        let mut end = buffer.end_iter();
        let appended_from = end.offset();
        let now = now_for_batch();
        for entry in entries {
            if entry.kind == Kind::Unread {
                // One "New messages" line at most: the newest absence's.
                self.remove_unread_divider();
                end = buffer.end_iter();
            }
            if imp.lines.get() > 0 {
                buffer.insert(&mut end, "\n");
            }
            if entry.kind == Kind::Unread {
                imp.unread
                    .replace(Some(buffer.create_mark(None, &end, true)));
            }
            if imp.session_starts_next.replace(false) {
                let mark = buffer.create_mark(None, &end, true);
                if let Some(old) = imp.session_start.replace(Some(mark)) {
                    buffer.delete_mark(&old);
                }
            }
            self.write_line(tags, &mut end, entry, &now);
            imp.lines.set(imp.lines.get() + 1);
        }
        self.update_search(|search| search.appended(&buffer, &tags.search, appended_from));
        self.trim();
    }

    /// Writes `entry` at `at` (the start of an empty line), leaving `at`
    /// at its end.
    fn write_line(&self, tags: &Tags, at: &mut gtk::TextIter, entry: &LogEntry, now: &str) {
        let buffer = self.imp().text_view.buffer();
        let line_start = at.offset();
        if !matches!(entry.kind, Kind::Divider | Kind::Unread) {
            let time = entry.time_ms.and_then(time_of_day);
            buffer.insert_with_tags(at, time.as_deref().unwrap_or(now), &[&tags.time]);
            buffer.insert(at, TIME_GAP);
        }
        if let Some(speaker) = &entry.speaker {
            let nick_tag = &tags.nicks[palette::slot(&speaker.colour_key)];
            buffer.insert_with_tags(at, &speaker.label, &[nick_tag]);
            buffer.insert(at, " ");
        }
        insert_text(
            &buffer,
            at,
            &entry.text,
            tags.for_kind(entry.kind),
            &tags.link,
        );
        if let Some(outbox_id) = entry.pending {
            let marker = buffer.create_mark(None, at, true);
            buffer.insert_with_tags(at, &format!(" {}", gettext("sending…")), &[&tags.marker]);
            if let Some(old) = self.imp().pending.borrow_mut().insert(outbox_id, marker) {
                buffer.delete_mark(&old);
            }
        }
        let own = entry.speaker.as_ref().is_some_and(|speaker| speaker.own);
        let whole_line_tags = [
            (own, &tags.own_line),
            (entry.pending.is_some(), &tags.pending),
            (entry.earlier, &tags.earlier),
            (entry.mentions_you, &tags.mention),
        ];
        // Most lines need none: no iterator lookup for them.
        if whole_line_tags.iter().any(|(wanted, _)| *wanted) {
            let line_start = buffer.iter_at_offset(line_start);
            for (_, tag) in whole_line_tags.iter().filter(|(wanted, _)| *wanted) {
                buffer.apply_tag(*tag, &line_start, at);
            }
        }
    }

    /// Takes the "New messages" line out, if there is one.
    fn remove_unread_divider(&self) {
        let imp = self.imp();
        let Some(mark) = imp.unread.take() else {
            return;
        };
        let buffer = imp.text_view.buffer();
        let mut start = buffer.iter_at_mark(&mark);
        buffer.delete_mark(&mark);
        let mut end = start;
        if !end.ends_line() {
            end.forward_to_line_end();
        }
        // With the newline after it, or before it when it is the last line.
        if end.offset() < buffer.end_iter().offset() {
            end.forward_char();
        } else if start.offset() > 0 {
            start.backward_char();
        }
        buffer.delete(&mut start, &mut end);
        imp.lines.set(imp.lines.get().saturating_sub(1));
    }

    /// The text of the lines highlighted as naming the person (for tests).
    pub fn mention_lines(&self) -> Vec<String> {
        let imp = self.imp();
        let Some(tags) = imp.tags.get() else {
            return Vec::new();
        };
        let buffer = imp.text_view.buffer();
        let mut lines = Vec::new();
        let mut at = buffer.start_iter();
        loop {
            if at.starts_tag(Some(&tags.mention)) {
                let mut end = at;
                end.forward_to_tag_toggle(Some(&tags.mention));
                let line = buffer.text(&at, &end, false).to_string();
                // Without the time column.
                let text = line
                    .split_once(TIME_GAP)
                    .map_or(line.as_str(), |(_, rest)| rest);
                let text = text.split_once(' ').map_or(text, |(_, said)| said);
                lines.push(text.to_owned());
            }
            if !at.forward_to_tag_toggle(Some(&tags.mention)) {
                return lines;
            }
        }
    }

    /// Whether a "New messages" line is shown.
    pub fn has_unread_divider(&self) -> bool {
        self.imp().unread.borrow().is_some()
    }

    /// Scrolls to the "New messages" line (the first line not read), if
    /// there is one; the log stops following new lines.
    pub fn scroll_to_unread(&self) {
        let imp = self.imp();
        let Some(mark) = imp.unread.borrow().clone() else {
            return;
        };
        imp.set_pinned(false);
        imp.text_view.scroll_to_mark(&mark, 0.0, true, 0.0, 0.2);
    }

    /// The next line appended opens the session: [`Self::insert_earlier`]
    /// puts lines above it.
    pub fn mark_session_start(&self) {
        self.imp().session_starts_next.set(true);
    }

    /// Adds `entries`, said before the session began, just above the line
    /// that opened it (at the end when there is none).
    pub fn insert_earlier(&self, entries: &[LogEntry]) {
        let imp = self.imp();
        let Some(tags) = imp.tags.get() else { return };
        let mark = imp.session_start.borrow().clone();
        let Some(mark) = mark.filter(|_| imp.lines.get() > 0) else {
            self.append(entries);
            return;
        };
        let buffer = imp.text_view.buffer();
        // Text inserted where a tagged range starts takes its tags (the
        // toggles sit before the first character), so write into a fresh,
        // untagged line instead of at the session line's start.
        let mut at = buffer.iter_at_mark(&mark);
        let blank = at.offset();
        let length_before = buffer.char_count();
        buffer.insert(&mut at, "\n");
        buffer.remove_all_tags(&buffer.iter_at_offset(blank), &at);
        let mut at = buffer.iter_at_offset(blank);
        let now = now_for_batch();
        for (index, entry) in entries.iter().enumerate() {
            if index > 0 {
                buffer.insert(&mut at, "\n");
            }
            self.write_line(tags, &mut at, entry, &now);
            imp.lines.set(imp.lines.get() + 1);
        }
        // Past the blank line's newline: the session's first line, still
        // where the next history goes.
        at.forward_char();
        buffer.move_mark(&mark, &at);
        let inserted = buffer.char_count() - length_before;
        self.update_search(|search| search.inserted(&buffer, &tags.search, blank, inserted));
        self.trim();
    }

    /// Shows our line with `outbox_id` as sent: normal look, no "sending…".
    pub fn mark_sent(&self, outbox_id: u64) {
        let imp = self.imp();
        let Some(tags) = imp.tags.get() else { return };
        let Some(marker) = imp.pending.borrow_mut().remove(&outbox_id) else {
            return;
        };
        let buffer = imp.text_view.buffer();
        let mut from = buffer.iter_at_mark(&marker);
        let mut line_end = from;
        if !line_end.ends_line() {
            line_end.forward_to_line_end();
        }
        let deleted = (from.offset(), line_end.offset());
        buffer.delete(&mut from, &mut line_end);
        self.update_search(|search| search.deleted(&buffer, &tags.search, deleted.0, deleted.1));
        let mut line_start = from;
        line_start.set_line_offset(0);
        buffer.remove_tag(&tags.pending, &line_start, &from);
        buffer.delete_mark(&marker);
    }

    /// How many of our lines show as still on their way.
    pub fn pending_count(&self) -> usize {
        self.imp().pending.borrow().len()
    }

    /// Drops the oldest lines once the log is a tenth over its limit.
    fn trim(&self) {
        let imp = self.imp();
        let limit = imp.line_limit.get();
        let lines = imp.lines.get();
        if lines <= limit + limit / 10 {
            return;
        }
        let buffer = imp.text_view.buffer();
        let drop = lines - limit;
        let Ok(drop_line) = i32::try_from(drop) else {
            return;
        };
        let mut start = buffer.start_iter();
        let mut cut = buffer
            .iter_at_line(drop_line)
            .unwrap_or_else(|| buffer.end_iter());
        // Pending lines that go can no longer be marked sent.
        let cut_offset = cut.offset();
        let unread_goes = imp
            .unread
            .borrow()
            .as_ref()
            .is_some_and(|mark| buffer.iter_at_mark(mark).offset() < cut_offset);
        if unread_goes {
            if let Some(mark) = imp.unread.take() {
                buffer.delete_mark(&mark);
            }
        }
        imp.pending.borrow_mut().retain(|_, marker| {
            let keep = buffer.iter_at_mark(marker).offset() >= cut_offset;
            if !keep {
                buffer.delete_mark(marker);
            }
            keep
        });
        buffer.delete(&mut start, &mut cut);
        imp.lines.set(limit);
        if let Some(tags) = imp.tags.get() {
            self.update_search(|search| search.deleted(&buffer, &tags.search, 0, cut_offset));
        }
    }

    pub fn clear(&self) {
        let imp = self.imp();
        let buffer = imp.text_view.buffer();
        for (_, marker) in imp.pending.borrow_mut().drain() {
            buffer.delete_mark(&marker);
        }
        for mark in [imp.session_start.take(), imp.unread.take()]
            .into_iter()
            .flatten()
        {
            buffer.delete_mark(&mark);
        }
        imp.session_starts_next.set(false);
        buffer.set_text("");
        imp.lines.set(0);
        imp.set_pinned(true);
        self.update_search(Search::buffer_cleared);
    }

    /// The whole log as plain text.
    pub fn text(&self) -> String {
        let buffer = self.imp().text_view.buffer();
        buffer
            .text(&buffer.start_iter(), &buffer.end_iter(), false)
            .to_string()
    }

    pub fn line_count(&self) -> usize {
        self.imp().lines.get()
    }

    pub fn set_line_limit(&self, limit: usize) {
        self.imp().line_limit.set(limit.max(1));
        self.trim();
    }

    /// Whether new lines scroll into view.
    pub fn is_pinned(&self) -> bool {
        self.imp().pinned.get()
    }

    pub fn jump_to_latest(&self) {
        self.imp().jump_to_latest();
    }

    pub fn jump_button(&self) -> gtk::Button {
        self.imp().jump_button.get()
    }

    pub fn vadjustment(&self) -> gtk::Adjustment {
        self.imp().scroller.vadjustment()
    }

    // ----- Search ------------------------------------------------------

    /// Highlights every match of `query` (ignoring case; an empty query
    /// ends the search) and shows the current one: the newest match at or
    /// above the bottom of the view.
    pub fn search(&self, query: &str) {
        let imp = self.imp();
        let Some(tags) = imp.tags.get() else { return };
        if query.is_empty() {
            self.clear_search();
            return;
        }
        let buffer = imp.text_view.buffer();
        let before = if imp.pinned.get() {
            i32::MAX
        } else {
            self.view_bottom_offset()
        };
        imp.search
            .borrow_mut()
            .start(&buffer, &tags.search, query, before);
        self.scroll_to_current_match();
        self.emit_by_name::<()>(MATCHES_CHANGED, &[]);
    }

    /// Makes the next match current (after the last: the first) and
    /// scrolls to it.
    pub fn next_match(&self) {
        self.step_match(true);
    }

    /// Makes the previous match current (before the first: the last) and
    /// scrolls to it.
    pub fn previous_match(&self) {
        self.step_match(false);
    }

    /// Ends the search and its highlighting; the view stays where it is.
    pub fn clear_search(&self) {
        let imp = self.imp();
        let Some(tags) = imp.tags.get() else { return };
        let was_active = imp.search.borrow().is_active();
        imp.search
            .borrow_mut()
            .clear(&imp.text_view.buffer(), &tags.search);
        if was_active {
            self.emit_by_name::<()>(MATCHES_CHANGED, &[]);
        }
    }

    /// How many times the search's query occurs in the log.
    pub fn match_count(&self) -> usize {
        self.imp().search.borrow().match_count()
    }

    /// Which match is current, counting from 0 at the top; `None` when
    /// nothing matches.
    pub fn current_match_index(&self) -> Option<usize> {
        self.imp().search.borrow().current_index()
    }

    /// The text of the current match, as the log shows it.
    pub fn current_match_text(&self) -> Option<String> {
        let (start, end) = self.imp().search.borrow().current_range()?;
        let buffer = self.imp().text_view.buffer();
        Some(
            buffer
                .text(
                    &buffer.iter_at_offset(start),
                    &buffer.iter_at_offset(end),
                    false,
                )
                .to_string(),
        )
    }

    /// Whether the current match is within the visible part of the log.
    pub fn current_match_in_view(&self) -> bool {
        let imp = self.imp();
        let Some((start, _)) = imp.search.borrow().current_range() else {
            return false;
        };
        let view = &imp.text_view;
        let location = view.iter_location(&view.buffer().iter_at_offset(start));
        let visible = view.visible_rect();
        location.y() >= visible.y()
            && location.y() + location.height() <= visible.y() + visible.height()
    }

    /// Runs `f` when the match count or the current match changes.
    pub fn connect_matches_changed<F: Fn(&Self) + 'static>(&self, f: F) -> glib::SignalHandlerId {
        self.connect_local(MATCHES_CHANGED, false, move |values| {
            if let Some(log) = values.first().and_then(|value| value.get::<Self>().ok()) {
                f(&log);
            }
            None
        })
    }

    fn step_match(&self, forward: bool) {
        let imp = self.imp();
        let Some(tags) = imp.tags.get() else { return };
        let moved = imp
            .search
            .borrow_mut()
            .step(&imp.text_view.buffer(), &tags.search, forward);
        if moved.is_some() {
            self.scroll_to_current_match();
            self.emit_by_name::<()>(MATCHES_CHANGED, &[]);
        }
    }

    /// Runs a change on the open search (none when no search is open)
    /// and tells who listens.
    fn update_search(&self, change: impl FnOnce(&mut Search)) {
        let imp = self.imp();
        if !imp.search.borrow().is_active() {
            return;
        }
        change(&mut imp.search.borrow_mut());
        self.emit_by_name::<()>(MATCHES_CHANGED, &[]);
    }

    /// Scrolls the current match into view once GTK has laid out its
    /// line, unpinning first so new lines do not carry it away again. A
    /// match already in view moves nothing, and so unpins nothing.
    fn scroll_to_current_match(&self) {
        let imp = self.imp();
        let Some((start, _)) = imp.search.borrow().current_range() else {
            return;
        };
        if self.current_match_in_view() {
            return;
        }
        let buffer = imp.text_view.buffer();
        let at = buffer.iter_at_offset(start);
        let mark = match buffer.mark(CURRENT_MATCH_MARK) {
            Some(mark) => {
                buffer.move_mark(&mark, &at);
                mark
            }
            None => buffer.create_mark(Some(CURRENT_MATCH_MARK), &at, true),
        };
        imp.set_pinned(false);
        imp.text_view.scroll_to_mark(&mark, 0.2, false, 0.0, 0.0);
    }

    /// The character offset at the bottom edge of the view.
    fn view_bottom_offset(&self) -> i32 {
        let view = &self.imp().text_view;
        let visible = view.visible_rect();
        view.iter_at_location(visible.x(), visible.y() + visible.height())
            .unwrap_or_else(|| view.buffer().end_iter())
            .offset()
    }

    pub fn open_link(&self, link: &str) {
        let context = self.display().app_launch_context();
        gio::AppInfo::launch_default_for_uri_async(
            link,
            Some(&context),
            None::<&gio::Cancellable>,
            glib::clone!(
                #[to_owned]
                link,
                move |result| {
                    if let Err(err) = result {
                        log::warn!("cannot open {link}: {err}");
                    }
                }
            ),
        );
    }
}

/// A centred heading between parts of the log; each kind gets its own tag
/// so its colour can differ.
fn heading() -> gtk::TextTag {
    gtk::TextTag::builder()
        .justification(gtk::Justification::Center)
        .indent(0)
        .scale(0.85)
        .weight(700)
        .pixels_above_lines(6)
        .build()
}

/// The clock for lines said now: one read per batch, as a batch arrives
/// within the same moment.
fn now_for_batch() -> String {
    glib::DateTime::now_local()
        .and_then(|now| now.format("%H:%M"))
        .map(|time| time.to_string())
        .unwrap_or_default()
}

/// `time_ms` (since the Unix epoch) as local time of day.
fn time_of_day(time_ms: i64) -> Option<String> {
    glib::DateTime::from_unix_local(time_ms.div_euclid(1000))
        .and_then(|time| time.format("%H:%M"))
        .map(|time| time.to_string())
        .ok()
}

/// Inserts `text` with `tag`, marking its links.
fn insert_text(
    buffer: &gtk::TextBuffer,
    end: &mut gtk::TextIter,
    text: &str,
    tag: Option<&gtk::TextTag>,
    link_tag: &gtk::TextTag,
) {
    let mut insert = |piece: &str, link: bool| {
        let tags: Vec<&gtk::TextTag> = tag.into_iter().chain(link.then_some(link_tag)).collect();
        buffer.insert_with_tags(end, piece, &tags);
    };
    let mut done = 0;
    for range in linkify::links(text) {
        insert(&text[done..range.start], false);
        insert(&text[range.clone()], true);
        done = range.end;
    }
    insert(&text[done..], false);
}

//! The room's log: a read-only `TextView` with tags, which stays fast at
//! 100,000 lines. It stays pinned to the newest line unless the person
//! scrolls up; then a "Jump to Latest" button appears instead.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::{HashMap, VecDeque};

use adw::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{gdk, gio, glib};

use super::linkify;
use super::log_entry::{Kind, LogEntry};
use super::palette;

mod lines;
mod search;

use lines::LineStyle;
use search::{Search, SearchTags};

/// Lines kept; a batch beyond it drops as many of the oldest.
pub const DEFAULT_LINE_LIMIT: usize = 100_000;
/// Lines painted above and below the view, so that scrolling a little
/// finds them painted already.
const PAINT_MARGIN: usize = 100;
/// Lines painted at the least, as if in view (before the log is laid out).
const MIN_PAINTED: usize = 50;
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
/// Scrolls to a match tried again, at most, when the first fell short.
const SEEK_RETRIES: u32 = 10;

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
    /// Its "For you:", quiet like the time: a note on the line, not part
    /// of what was said.
    mention_mark: gtk::TextTag,
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
            mention_mark: add(gtk::TextTag::new(None::<&str>)),
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
            &self.mention_mark,
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
        /// The view is on its way to a search match: until the match is in
        /// view, GTK may still report the old bottom while it lays lines
        /// out, which must not pin the log again (and pull the view back).
        pub(super) seeking_match: Cell<bool>,
        /// One per line of the buffer: how to paint it.
        pub(super) styles: RefCell<VecDeque<LineStyle>>,
        /// The lines `[from, to)` that carry their tags; the rest is
        /// plain text.
        pub(super) painted: Cell<(usize, usize)>,
        /// Set while tags change, which may move the view.
        pub(super) painting: Cell<bool>,
        /// A repaint waits for the main loop (see `queue_repaint`).
        pub(super) repaint_queued: Cell<bool>,
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
                seeking_match: Cell::new(false),
                styles: RefCell::new(VecDeque::new()),
                painted: Cell::new((0, 0)),
                painting: Cell::new(false),
                repaint_queued: Cell::new(false),
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

        /// Pins or unpins; either way the person (or a search) has
        /// chosen where the view goes, so a seek in progress ends.
        pub(super) fn set_pinned(&self, pinned: bool) {
            self.seeking_match.set(false);
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
            // A seek is ended by its own check once GTK is idle: while
            // GTK lays lines out, a match seen in view may still move out.
            if self.seeking_match.get() {
                self.queue_repaint();
                return;
            }
            match (self.pinned.get(), self.at_bottom()) {
                (true, false) => self.stick_to_bottom(),
                (false, true) => self.set_pinned(true),
                _ => {}
            }
            self.queue_repaint();
        }

        /// Paints the lines near the view once GTK is done moving it:
        /// the adjustment changes while GTK lays out the view, and tags
        /// changed then would invalidate lines it has just laid out.
        fn queue_repaint(&self) {
            if self.repaint_queued.replace(true) {
                return;
            }
            glib::idle_add_local_full(
                glib::Priority::HIGH,
                glib::clone!(
                    #[weak(rename_to = this)]
                    self,
                    #[upgrade_or]
                    glib::ControlFlow::Break,
                    move || {
                        this.repaint_queued.set(false);
                        this.obj().repaint();
                        glib::ControlFlow::Break
                    }
                ),
            );
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
                    this.seeking_match.set(false);
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
                    this.seeking_match.set(false);
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

    /// Adds `entries` at the end in one go (one insert for a batch),
    /// then drops the oldest lines beyond the limit.
    pub fn append(&self, entries: &[LogEntry]) {
        let imp = self.imp();
        if imp.tags.get().is_none() || entries.is_empty() {
            return;
        }
        // One "New messages" line at most: the newest absence's.
        let last_unread = entries.iter().rposition(|entry| entry.kind == Kind::Unread);
        if last_unread.is_some() {
            self.remove_unread_divider();
        }
        let buffer = imp.text_view.buffer();
        let first_line = imp.styles.borrow().len();
        let mut end = buffer.end_iter();
        let appended_from = end.offset();
        let now = now_for_batch();
        let mut text = String::new();
        let mut markers = Vec::new();
        let mut styles = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            if entry.kind == Kind::Unread && Some(index) != last_unread {
                continue;
            }
            if first_line + styles.len() > 0 {
                text.push('\n');
            }
            let composed = lines::compose(entry, &now, &mut text);
            if let (Some(outbox_id), Some(at)) = (entry.pending, composed.marker_at) {
                markers.push((outbox_id, first_line + styles.len(), at));
            }
            styles.push(composed.style);
        }
        buffer.insert(&mut end, &text);
        let line_start = |line: usize| {
            i32::try_from(line)
                .ok()
                .and_then(|line| buffer.iter_at_line(line))
                .unwrap_or_else(|| buffer.end_iter())
        };
        if let Some(unread) = last_unread {
            let skipped = entries[..unread]
                .iter()
                .filter(|entry| entry.kind == Kind::Unread)
                .count();
            let line = line_start(first_line + unread - skipped);
            imp.unread
                .replace(Some(buffer.create_mark(None, &line, true)));
        }
        if imp.session_starts_next.replace(false) {
            let mark = buffer.create_mark(None, &line_start(first_line), true);
            if let Some(old) = imp.session_start.replace(Some(mark)) {
                buffer.delete_mark(&old);
            }
        }
        for (outbox_id, line, at) in markers {
            let mut marker = line_start(line);
            marker.forward_chars(at);
            let marker = buffer.create_mark(None, &marker, true);
            if let Some(old) = imp.pending.borrow_mut().insert(outbox_id, marker) {
                buffer.delete_mark(&old);
            }
        }
        imp.styles.borrow_mut().extend(styles);
        self.update_search(|search| search.appended(&buffer, appended_from));
        self.trim();
        self.repaint();
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
        let line = usize::try_from(start.line()).unwrap_or(0);
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
        let deleted = (start.offset(), end.offset());
        buffer.delete(&mut start, &mut end);
        imp.styles.borrow_mut().remove(line);
        let (from, to) = imp.painted.get();
        imp.painted.set(match line {
            line if line < from => (from - 1, to - 1),
            line if line < to => (from, to - 1),
            _ => (from, to),
        });
        self.update_search(|search| search.deleted(deleted.0, deleted.1));
    }

    /// The text of the lines highlighted as naming the person, without
    /// time and speaker (for tests).
    pub fn mention_lines(&self) -> Vec<String> {
        let imp = self.imp();
        let buffer = imp.text_view.buffer();
        let styles = imp.styles.borrow();
        styles
            .iter()
            .enumerate()
            .filter(|(_, style)| style.mentions_you)
            .filter_map(|(line, style)| {
                let (start, end) = self.line_bounds(line)?;
                let mut text_start = start;
                text_start.forward_chars(style.text_from());
                Some(buffer.text(&text_start, &end, false).to_string())
            })
            .collect()
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
        if imp.tags.get().is_none() || entries.is_empty() {
            return;
        }
        let mark = imp.session_start.borrow().clone();
        let Some(mark) = mark.filter(|_| !imp.styles.borrow().is_empty()) else {
            self.append(entries);
            return;
        };
        // Lines below move down: paint them again afterwards. Untagged, the
        // session's line also gives no tags to text inserted at its start.
        self.unpaint_all();
        let buffer = imp.text_view.buffer();
        let mut at = buffer.iter_at_mark(&mark);
        let line = usize::try_from(at.line()).unwrap_or(0);
        let offset = at.offset();
        let now = now_for_batch();
        let mut text = String::new();
        let mut styles = Vec::with_capacity(entries.len());
        for entry in entries {
            styles.push(lines::compose(entry, &now, &mut text).style);
            text.push('\n');
        }
        let length_before = buffer.char_count();
        buffer.insert(&mut at, &text);
        // The session's first line, still where the next history goes.
        buffer.move_mark(&mark, &at);
        let mut kept = imp.styles.borrow_mut();
        let split = line.min(kept.len());
        let tail = kept.split_off(split);
        kept.extend(styles);
        kept.extend(tail);
        drop(kept);
        let inserted = buffer.char_count() - length_before;
        self.update_search(|search| search.inserted(&buffer, offset, inserted));
        self.trim();
        self.repaint();
    }

    /// Shows our line with `outbox_id` as sent: normal look, no "sending…".
    pub fn mark_sent(&self, outbox_id: u64) {
        let imp = self.imp();
        let Some(marker) = imp.pending.borrow_mut().remove(&outbox_id) else {
            return;
        };
        let buffer = imp.text_view.buffer();
        let mut from = buffer.iter_at_mark(&marker);
        buffer.delete_mark(&marker);
        let line = usize::try_from(from.line()).unwrap_or(0);
        let mut line_end = from;
        if !line_end.ends_line() {
            line_end.forward_to_line_end();
        }
        let deleted = (from.offset(), line_end.offset());
        buffer.delete(&mut from, &mut line_end);
        if let Some(style) = imp.styles.borrow_mut().get_mut(line) {
            style.pending = false;
        }
        self.update_search(|search| search.deleted(deleted.0, deleted.1));
        self.repaint_lines(line, line + 1);
    }

    /// How many of our lines show as still on their way.
    pub fn pending_count(&self) -> usize {
        self.imp().pending.borrow().len()
    }

    /// Drops the oldest lines beyond the limit: as many as a batch added,
    /// so a flood into a full log deletes a little each time.
    fn trim(&self) {
        let imp = self.imp();
        let limit = imp.line_limit.get();
        let lines = imp.styles.borrow().len();
        if lines <= limit {
            return;
        }
        let drop = lines - limit;
        let buffer = imp.text_view.buffer();
        let Some(mut cut) = i32::try_from(drop)
            .ok()
            .and_then(|line| buffer.iter_at_line(line))
        else {
            return;
        };
        let mut start = buffer.start_iter();
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
        imp.styles.borrow_mut().drain(..drop);
        let (from, to) = imp.painted.get();
        imp.painted
            .set((from.saturating_sub(drop), to.saturating_sub(drop)));
        self.update_search(|search| search.deleted(0, cut_offset));
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
        imp.styles.borrow_mut().clear();
        imp.painted.set((0, 0));
        imp.set_pinned(true);
        self.update_search(Search::buffer_cleared);
    }

    // ----- Painting: tags on the lines near the view only ---------------

    /// The first and end iterators of `line` (without its line break).
    fn line_bounds(&self, line: usize) -> Option<(gtk::TextIter, gtk::TextIter)> {
        let buffer = self.imp().text_view.buffer();
        let start = buffer.iter_at_line(i32::try_from(line).ok()?)?;
        let mut end = start;
        if !end.ends_line() {
            end.forward_to_line_end();
        }
        Some((start, end))
    }

    /// The lines `[from, to)` from the start of `from` to the start of `to`.
    fn lines_range(&self, from: usize, to: usize) -> Option<(gtk::TextIter, gtk::TextIter)> {
        let buffer = self.imp().text_view.buffer();
        let start = buffer.iter_at_line(i32::try_from(from).ok()?)?;
        let end = i32::try_from(to)
            .ok()
            .and_then(|to| buffer.iter_at_line(to))
            .filter(|end| end.line() == to as i32)
            .unwrap_or_else(|| buffer.end_iter());
        Some((start, end))
    }

    /// The lines that should carry their tags: those in view and a margin
    /// around them, so scrolling a little shows painted lines. Pinned, the
    /// newest lines, however far the view has still to scroll to them.
    fn wanted_lines(&self) -> (usize, usize) {
        let imp = self.imp();
        let lines = imp.styles.borrow().len();
        let view = &imp.text_view;
        let visible = view.visible_rect();
        // By height alone, from the tree of line heights: no line is laid
        // out to find it (`iter_at_location` shapes the line it finds).
        let line_at = |y: i32| usize::try_from(view.line_at_y(y).0.line()).unwrap_or(0);
        let (top, bottom) = if visible.height() > 0 {
            (
                line_at(visible.y()),
                line_at(visible.y() + visible.height()) + 1,
            )
        } else {
            (lines, lines)
        };
        let shown = (bottom - top.min(bottom)).max(MIN_PAINTED);
        if imp.pinned.get() || visible.height() <= 0 {
            (lines.saturating_sub(shown + PAINT_MARGIN), lines)
        } else {
            (
                top.saturating_sub(PAINT_MARGIN),
                (bottom + PAINT_MARGIN).min(lines),
            )
        }
    }

    /// Moves the tags to the lines now near the view.
    fn repaint(&self) {
        let imp = self.imp();
        if imp.painting.get() {
            return;
        }
        let wanted = self.wanted_lines();
        let painted = imp.painted.get();
        if wanted == painted {
            return;
        }
        imp.painting.set(true);
        let buffer = imp.text_view.buffer();
        for (from, to) in lines::outside(painted, wanted) {
            if from < to {
                if let Some((start, end)) = self.lines_range(from, to) {
                    buffer.remove_all_tags(&start, &end);
                }
            }
        }
        imp.painted.set(wanted);
        for (from, to) in lines::outside(wanted, painted) {
            self.paint_lines(from, to);
        }
        imp.painting.set(false);
    }

    /// Paints the lines `[from, to)` again, where painted.
    fn repaint_lines(&self, from: usize, to: usize) {
        let imp = self.imp();
        let (painted_from, painted_to) = imp.painted.get();
        let (from, to) = (from.max(painted_from), to.min(painted_to));
        if from >= to {
            return;
        }
        if let Some((start, end)) = self.lines_range(from, to) {
            imp.text_view.buffer().remove_all_tags(&start, &end);
        }
        self.paint_lines(from, to);
    }

    /// Takes every tag off (before lines move under the painted range).
    fn unpaint_all(&self) {
        let imp = self.imp();
        let (from, to) = imp.painted.replace((0, 0));
        if from < to {
            if let Some((start, end)) = self.lines_range(from, to) {
                imp.text_view.buffer().remove_all_tags(&start, &end);
            }
        }
    }

    /// Tags the lines `[from, to)`, which carry none: their styles, links,
    /// "sending…" markers and search matches.
    fn paint_lines(&self, from: usize, to: usize) {
        let imp = self.imp();
        let Some(tags) = imp.tags.get() else { return };
        if from >= to {
            return;
        }
        let buffer = imp.text_view.buffer();
        let markers: HashMap<usize, gtk::TextIter> = imp
            .pending
            .borrow()
            .values()
            .map(|marker| buffer.iter_at_mark(marker))
            .filter_map(|at| Some((usize::try_from(at.line()).ok()?, at)))
            .filter(|(line, _)| (from..to).contains(line))
            .collect();
        let styles = imp.styles.borrow();
        for line in from..to {
            let (Some(style), Some((start, end))) = (styles.get(line), self.line_bounds(line))
            else {
                break;
            };
            paint_line(&buffer, tags, style, (&start, &end), markers.get(&line));
        }
        drop(styles);
        if let Some((start, end)) = self.lines_range(from, to) {
            imp.search
                .borrow()
                .paint(&buffer, &tags.search, start.offset(), end.offset());
        }
    }

    /// The search changed: its highlighting on the painted lines follows.
    fn repaint_search(&self) {
        let imp = self.imp();
        let Some(tags) = imp.tags.get() else { return };
        let (from, to) = imp.painted.get();
        if from >= to {
            return;
        }
        let Some((start, end)) = self.lines_range(from, to) else {
            return;
        };
        let buffer = imp.text_view.buffer();
        buffer.remove_tag(&tags.search.found, &start, &end);
        buffer.remove_tag(&tags.search.current, &start, &end);
        imp.search
            .borrow()
            .paint(&buffer, &tags.search, start.offset(), end.offset());
    }

    /// The whole log as plain text.
    pub fn text(&self) -> String {
        let buffer = self.imp().text_view.buffer();
        buffer
            .text(&buffer.start_iter(), &buffer.end_iter(), false)
            .to_string()
    }

    /// The colour a tag gives the character `chars` into `line`, if one
    /// does (for tests).
    pub fn foreground_at(&self, line: usize, chars: i32) -> Option<gdk::RGBA> {
        let (mut at, _) = self.line_bounds(line)?;
        at.forward_chars(chars);
        at.tags()
            .iter()
            .rev()
            .find(|tag| tag.is_foreground_set())
            .and_then(|tag| tag.foreground_rgba())
    }

    pub fn line_count(&self) -> usize {
        self.imp().styles.borrow().len()
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

    /// The view of the text (for tests: selecting and copying).
    pub fn text_view(&self) -> gtk::TextView {
        self.imp().text_view.get()
    }

    /// How many matches are highlighted: only those near the view are
    /// (for tests).
    pub fn highlighted_match_count(&self) -> usize {
        let imp = self.imp();
        let Some(tags) = imp.tags.get() else { return 0 };
        let mut count = 0;
        let mut at = imp.text_view.buffer().start_iter();
        while at.forward_to_tag_toggle(None::<&gtk::TextTag>) {
            if at.starts_tag(Some(&tags.search.found)) || at.starts_tag(Some(&tags.search.current))
            {
                count += 1;
            }
        }
        count
    }

    /// Whether the current match shows as current (for tests).
    pub fn current_match_highlighted(&self) -> bool {
        let imp = self.imp();
        let (Some(tags), Some((start, _))) = (imp.tags.get(), imp.search.borrow().current_range())
        else {
            return false;
        };
        imp.text_view
            .buffer()
            .iter_at_offset(start)
            .has_tag(&tags.search.current)
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
        imp.search.borrow_mut().start(&buffer, query, before);
        self.repaint_search();
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
        let was_active = imp.search.borrow().is_active();
        imp.search.borrow_mut().clear();
        imp.seeking_match.set(false);
        if was_active {
            self.repaint_search();
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
        let moved = self.imp().search.borrow_mut().step(forward);
        if moved.is_some() {
            self.repaint_search();
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
        self.repaint_search();
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
        imp.seeking_match.set(true);
        imp.text_view.scroll_to_mark(&mark, 0.2, false, 0.0, 0.0);
        self.finish_seek_frame_by_frame(SEEK_RETRIES);
    }

    /// Checks a seek frame by frame, and scrolls to the current match
    /// again once the view has stopped short of it: GTK aims at a far line
    /// by the heights it estimates for lines not yet laid out, and laying
    /// them out can leave the match outside the view, with nothing left to
    /// move it. A seek ends there, or after [`SEEK_RETRIES`] tries.
    fn finish_seek_frame_by_frame(&self, retries: u32) {
        let retries = Cell::new(retries);
        let last_value = Cell::new(f64::NAN);
        self.imp().text_view.add_tick_callback(glib::clone!(
            #[weak(rename_to = this)]
            self,
            #[upgrade_or]
            glib::ControlFlow::Break,
            move |view, _| {
                let imp = this.imp();
                if !imp.seeking_match.get() {
                    return glib::ControlFlow::Break;
                }
                if this.current_match_in_view() {
                    imp.seeking_match.set(false);
                    return glib::ControlFlow::Break;
                }
                let value = imp.scroller.vadjustment().value();
                // Still moving: GTK has not done with this scroll yet.
                if value != last_value.replace(value) {
                    return glib::ControlFlow::Continue;
                }
                let mark = view.buffer().mark(CURRENT_MATCH_MARK);
                match (retries.get(), mark) {
                    (1.., Some(mark)) => {
                        retries.set(retries.get() - 1);
                        last_value.set(f64::NAN);
                        view.scroll_to_mark(&mark, 0.2, false, 0.0, 0.0);
                        glib::ControlFlow::Continue
                    }
                    // As near as it will get.
                    _ => {
                        imp.seeking_match.set(false);
                        glib::ControlFlow::Break
                    }
                }
            }
        ));
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

/// Tags one line, which carries none, as `style` says; `start` and `end`
/// bound it (without its line break), `marker` is where its "sending…"
/// starts.
fn paint_line(
    buffer: &gtk::TextBuffer,
    tags: &Tags,
    style: &LineStyle,
    (start, end): (&gtk::TextIter, &gtk::TextIter),
    marker: Option<&gtk::TextIter>,
) {
    let at = |chars: i32| {
        let mut at = *start;
        at.forward_chars(chars);
        if at.offset() > end.offset() {
            *end
        } else {
            at
        }
    };
    if style.time_chars > 0 {
        buffer.apply_tag(&tags.time, start, &at(i32::from(style.time_chars)));
    }
    let text_from = at(style.text_from());
    if style.mark_chars > 0 {
        // Without its space, which the tint alone covers.
        buffer.apply_tag(
            &tags.mention_mark,
            &at(style.mark_from()),
            &at(style.label_from() - 1),
        );
    }
    if style.label_chars > 0 {
        let label_from = style.label_from();
        let nick_tag = &tags.nicks[usize::from(style.colour_slot) % tags.nicks.len()];
        buffer.apply_tag(
            nick_tag,
            &at(label_from),
            &at(label_from + i32::from(style.label_chars)),
        );
    }
    // The said text runs to the line's end, or to its "sending…".
    let said_end = marker.map_or(*end, |marker| {
        buffer.apply_tag(&tags.marker, marker, end);
        *marker
    });
    if let Some(tag) = tags.for_kind(style.kind) {
        buffer.apply_tag(tag, &text_from, &said_end);
    }
    let text = buffer.slice(&text_from, &said_end, true);
    let chars_before =
        |byte: usize| i32::try_from(text[..byte].chars().count()).unwrap_or(i32::MAX);
    let from = text_from.offset() - start.offset();
    for link in linkify::links(&text) {
        buffer.apply_tag(
            &tags.link,
            &at(from + chars_before(link.start)),
            &at(from + chars_before(link.end)),
        );
    }
    let whole_line_tags = [
        (style.own, &tags.own_line),
        (style.pending, &tags.pending),
        (style.earlier, &tags.earlier),
        (style.mentions_you, &tags.mention),
    ];
    for (_, tag) in whole_line_tags.iter().filter(|(wanted, _)| *wanted) {
        buffer.apply_tag(*tag, start, end);
    }
}

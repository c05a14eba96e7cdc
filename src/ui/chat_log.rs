//! The room's log: a read-only `TextView` with tags, which stays fast at
//! 100,000 lines. It stays pinned to the newest line unless the person
//! scrolls up; then a "Jump to Latest" button appears instead.

use std::cell::{Cell, OnceCell};

use adw::prelude::*;
use gtk::subclass::prelude::*;
use gtk::{gdk, gio, glib};

use super::linkify;
use super::log_entry::{Kind, LogEntry};
use super::palette;

/// Lines kept; older ones are dropped in slices of a tenth, not one by one.
pub const DEFAULT_LINE_LIMIT: usize = 100_000;
/// Within this many pixels of the end counts as "at the newest line".
const BOTTOM_SLACK: f64 = 8.0;

/// The time column's scale, relative to the log's text.
const TIME_SCALE: f64 = 0.85;
/// What separates the time from the rest of a line.
const TIME_GAP: &str = "  ";

/// The tags every line draws from, made once per log.
#[derive(Debug)]
struct Tags {
    time: gtk::TextTag,
    nicks: Vec<gtk::TextTag>,
    own_line: gtk::TextTag,
    action: gtk::TextTag,
    private: gtk::TextTag,
    notice: gtk::TextTag,
    system: gtk::TextTag,
    error: gtk::TextTag,
    link: gtk::TextTag,
}

impl Tags {
    fn new(table: &gtk::TextTagTable) -> Self {
        let add = |tag: gtk::TextTag| {
            table.add(&tag);
            tag
        };
        Tags {
            time: add(gtk::TextTag::builder().scale(TIME_SCALE).build()),
            nicks: (0..palette::COLOURS)
                .map(|_| add(gtk::TextTag::builder().weight(700).build()))
                .collect(),
            own_line: add(gtk::TextTag::builder()
                .paragraph_background_rgba(&gdk::RGBA::new(0.21, 0.52, 0.89, 0.10))
                .build()),
            action: add(gtk::TextTag::builder()
                .style(gtk::pango::Style::Italic)
                .build()),
            private: add(gtk::TextTag::builder()
                .style(gtk::pango::Style::Italic)
                .build()),
            notice: add(gtk::TextTag::builder().scale(0.95).build()),
            system: add(gtk::TextTag::builder().scale(0.9).build()),
            error: add(gtk::TextTag::new(None::<&str>)),
            link: add(gtk::TextTag::builder()
                .underline(gtk::pango::Underline::Single)
                .build()),
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
        let (quiet, error, link) = if dark {
            ("#9a9996", "#ff7b63", "#78aeed")
        } else {
            ("#6f6e73", "#c01c28", "#1a5fb4")
        };
        for tag in [&self.time, &self.system, &self.notice] {
            paint(tag, quiet);
        }
        paint(&self.error, error);
        paint(&self.link, link);
    }

    fn for_kind(&self, kind: Kind) -> Option<&gtk::TextTag> {
        match kind {
            Kind::Chat => None,
            Kind::Private => Some(&self.private),
            Kind::Action => Some(&self.action),
            Kind::Notice => Some(&self.notice),
            Kind::System => Some(&self.system),
            Kind::Error => Some(&self.error),
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

impl TcpChatLog {
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
        // One clock read per batch: a batch arrives within the same moment.
        let time = glib::DateTime::now_local()
            .and_then(|now| now.format("%H:%M"))
            .map(|time| time.to_string())
            .unwrap_or_default();
        for entry in entries {
            let line_start = if imp.lines.get() == 0 {
                end.offset()
            } else {
                buffer.insert(&mut end, "\n");
                end.offset()
            };
            buffer.insert_with_tags(&mut end, &time, &[&tags.time]);
            buffer.insert(&mut end, TIME_GAP);
            if let Some(speaker) = &entry.speaker {
                let nick_tag = &tags.nicks[palette::slot(&speaker.colour_key)];
                buffer.insert_with_tags(&mut end, &speaker.label, &[nick_tag]);
                buffer.insert(&mut end, " ");
            }
            insert_text(
                &buffer,
                &mut end,
                &entry.text,
                tags.for_kind(entry.kind),
                &tags.link,
            );
            if entry.speaker.as_ref().is_some_and(|speaker| speaker.own) {
                buffer.apply_tag(&tags.own_line, &buffer.iter_at_offset(line_start), &end);
            }
            imp.lines.set(imp.lines.get() + 1);
        }
        self.trim();
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
        buffer.delete(&mut start, &mut cut);
        imp.lines.set(limit);
    }

    pub fn clear(&self) {
        let imp = self.imp();
        imp.text_view.buffer().set_text("");
        imp.lines.set(0);
        imp.set_pinned(true);
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

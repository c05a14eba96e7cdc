//! The log's lines as the buffer holds them: plain text, written a batch at
//! a time, and beside it a few bytes per line that say how to style it.
//! Tags go only on the lines near the view (the log paints them as the view
//! moves): in a `GtkTextBuffer` every tagged range costs about 200 bytes per
//! line in toggle and text segments, which made a 100,000-line log 80 MiB;
//! as plain text it is about 25 MiB. One `insert` per batch, not a few per
//! line, is also what keeps a flood from blocking the main loop.

use super::TIME_GAP;
use crate::i18n::gettext;
use crate::ui::log_entry::{Kind, LogEntry};
use crate::ui::palette;

/// CJK punctuation, which is drawn with its own space after it.
fn is_full_width_punctuation(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303F}' | '\u{FF01}'..='\u{FF0F}' | '\u{FF1A}'..='\u{FF20}')
}

/// How to paint one line, in character counts from its start: the time
/// column, then on a line that names the person the words "For you:" and a
/// space, then the speaker's label and a space, then the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LineStyle {
    pub(super) kind: Kind,
    /// The speaker's nick colour.
    pub(super) colour_slot: u8,
    /// 0 for headings, which have no time.
    pub(super) time_chars: u8,
    /// The mention mark and its space; 0 on the other lines.
    pub(super) mark_chars: u8,
    /// 0 when no one speaks (system lines, headings).
    pub(super) label_chars: u16,
    pub(super) own: bool,
    /// Ends in "sending…" (where it starts is the log's pending mark).
    pub(super) pending: bool,
    pub(super) earlier: bool,
    pub(super) mentions_you: bool,
}

impl LineStyle {
    /// Where the mention mark starts (on a line without one, the label).
    pub(super) fn mark_from(&self) -> i32 {
        if self.time_chars > 0 {
            i32::from(self.time_chars) + TIME_GAP.chars().count() as i32
        } else {
            0
        }
    }

    /// Where the speaker's label starts (on a line without one, the text).
    pub(super) fn label_from(&self) -> i32 {
        self.mark_from() + i32::from(self.mark_chars)
    }

    /// Where the said text starts.
    pub(super) fn text_from(&self) -> i32 {
        let label = if self.label_chars > 0 {
            i32::from(self.label_chars) + 1
        } else {
            0
        };
        self.label_from() + label
    }
}

/// A line written for the buffer: its style and, for our line on its way,
/// the character where " sending…" starts.
pub(super) struct Composed {
    pub(super) style: LineStyle,
    pub(super) marker_at: Option<i32>,
}

/// Appends `entry` as one line of plain text to `text` (no line break),
/// timed `now` unless it carries its own time.
pub(super) fn compose(entry: &LogEntry, now: &str, text: &mut String) -> Composed {
    let start = text.len();
    let heading = matches!(entry.kind, Kind::Divider | Kind::Unread);
    let mut time_chars = 0;
    if !heading {
        let own_time = entry.time_ms.and_then(super::time_of_day);
        let time = own_time.as_deref().unwrap_or(now);
        time_chars = u8::try_from(time.chars().count()).unwrap_or(u8::MAX);
        text.push_str(time);
        text.push_str(TIME_GAP);
    }
    // In words, not only the line's tint: what a screen reader reads out
    // (GTK 4.8 has no way to announce it otherwise), and what people who
    // cannot tell the tint apart see. Copied and found by search like the
    // rest of the line.
    let mut mark_chars = 0;
    if entry.mentions_you {
        let mut mark = gettext("For you:");
        // A full-width colon ("提到你：") carries its own space.
        if !mark.ends_with(is_full_width_punctuation) {
            mark.push(' ');
        }
        mark_chars = u8::try_from(mark.chars().count()).unwrap_or(u8::MAX);
        text.push_str(&mark);
    }
    let mut label_chars = 0;
    let mut colour_slot = 0;
    if let Some(speaker) = &entry.speaker {
        label_chars = u16::try_from(speaker.label.chars().count()).unwrap_or(u16::MAX);
        colour_slot = u8::try_from(palette::slot(&speaker.colour_key)).unwrap_or(0);
        text.push_str(&speaker.label);
        text.push(' ');
    }
    text.push_str(&entry.text);
    let marker_at = entry.pending.map(|_| {
        let at = text[start..].chars().count();
        text.push(' ');
        text.push_str(&gettext("sending…"));
        i32::try_from(at).unwrap_or(i32::MAX)
    });
    Composed {
        style: LineStyle {
            kind: entry.kind,
            colour_slot,
            time_chars,
            mark_chars,
            label_chars,
            own: entry.speaker.as_ref().is_some_and(|speaker| speaker.own),
            pending: entry.pending.is_some(),
            earlier: entry.earlier,
            mentions_you: entry.mentions_you,
        },
        marker_at,
    }
}

/// The part of the line range `[from, to)` not in `[keep_from, keep_to)`:
/// two runs, either possibly empty (`start == end`).
pub(super) fn outside(
    (from, to): (usize, usize),
    (keep_from, keep_to): (usize, usize),
) -> [(usize, usize); 2] {
    if keep_to <= keep_from {
        return [(from, to), (to, to)];
    }
    let before = (from, to.min(keep_from).max(from));
    let after_from = from.max(keep_to);
    [before, (after_from, to.max(after_from))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::log_entry::Speaker;

    #[test]
    fn style_counts_characters_not_bytes() {
        let mut entry = LogEntry::system("héllo".into());
        entry.kind = Kind::Chat;
        entry.speaker = Some(Speaker {
            label: "élodie".into(),
            colour_key: "élodie".into(),
            own: true,
        });
        entry.time_ms = None;
        let mut text = String::new();
        let composed = compose(&entry, "09:15", &mut text);
        assert_eq!(text, "09:15  élodie héllo");
        assert_eq!(composed.style.time_chars, 5);
        assert_eq!(composed.style.label_chars, 6);
        assert_eq!(composed.style.text_from(), 14);
        assert!(composed.style.own);
        assert_eq!(composed.marker_at, None);
    }

    #[test]
    fn headings_have_no_time_and_pending_lines_a_marker() {
        let mut text = String::new();
        let divider = compose(&LogEntry::divider("Earlier".into()), "09:15", &mut text);
        assert_eq!(text, "Earlier");
        assert_eq!(divider.style.text_from(), 0);
        let mut pending = LogEntry::system("hi".into());
        pending.pending = Some(7);
        text.clear();
        let composed = compose(&pending, "09:15", &mut text);
        assert_eq!(composed.marker_at, Some(9));
        assert!(text.starts_with("09:15  hi "));
    }

    #[test]
    fn a_line_naming_you_says_so_in_words() {
        let mut entry = LogEntry::system("alice: lunch?".into());
        entry.kind = Kind::Chat;
        entry.speaker = Some(Speaker {
            label: "bob".into(),
            colour_key: "bob".into(),
            own: false,
        });
        entry.mentions_you = true;
        let mut text = String::new();
        let composed = compose(&entry, "09:15", &mut text);
        assert_eq!(text, "09:15  For you: bob alice: lunch?");
        assert_eq!(composed.style.mark_chars, 9);
        let at = |chars: i32| usize::try_from(chars).unwrap();
        let (mark, label) = (composed.style.mark_from(), composed.style.label_from());
        assert_eq!(&text[at(mark)..at(label)], "For you: ");
        assert_eq!(&text[at(label)..at(label) + 3], "bob");
        let text_from = usize::try_from(composed.style.text_from()).unwrap();
        assert_eq!(&text[text_from..], "alice: lunch?");
        entry.mentions_you = false;
        text.clear();
        let plain = compose(&entry, "09:15", &mut text);
        assert_eq!(text, "09:15  bob alice: lunch?");
        assert_eq!(plain.style.mark_chars, 0);
    }

    #[test]
    fn a_full_width_mark_needs_no_space_after_it() {
        assert!(is_full_width_punctuation('：'));
        assert!(is_full_width_punctuation('，'));
        assert!(!is_full_width_punctuation(':'));
        assert!(!is_full_width_punctuation('你'));
    }

    #[test]
    fn outside_a_range() {
        assert_eq!(outside((0, 10), (3, 5)), [(0, 3), (5, 10)]);
        assert_eq!(outside((0, 10), (0, 0)), [(0, 10), (10, 10)]);
        assert_eq!(outside((4, 6), (0, 10)), [(4, 4), (10, 10)]);
    }
}

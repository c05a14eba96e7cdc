//! Finding text in the log. Matches are kept as character offsets in buffer
//! order. The log reports each change to its text (lines appended, earlier
//! lines inserted, lines trimmed or shortened), so only the changed text is
//! searched again: a 100,000-line log is scanned once per query, not once
//! per batch of new lines. Only the matches near the view are highlighted
//! (the log paints them with its other tags): a common word matching
//! 100,000 times costs no tags, and no time to tag.

use gtk::prelude::*;

/// The tags a search paints with (made with the log's other tags).
#[derive(Debug)]
pub(super) struct SearchTags {
    pub(super) found: gtk::TextTag,
    /// Made after `found`, so it wins where both apply.
    pub(super) current: gtk::TextTag,
}

/// One search's state: the query and where it matches.
#[derive(Debug, Default)]
pub(super) struct Search {
    /// Empty when no search is open.
    query: String,
    /// Character offsets `[start, end)` of every match, in buffer order.
    matches: Vec<(i32, i32)>,
    /// Index into `matches`; `Some` exactly when there are matches.
    current: Option<usize>,
}

impl Search {
    pub(super) fn is_active(&self) -> bool {
        !self.query.is_empty()
    }

    pub(super) fn match_count(&self) -> usize {
        self.matches.len()
    }

    pub(super) fn current_index(&self) -> Option<usize> {
        self.current
    }

    /// The current match's offsets.
    pub(super) fn current_range(&self) -> Option<(i32, i32)> {
        self.current
            .and_then(|index| self.matches.get(index).copied())
    }

    /// Searches the whole buffer for `query` (an empty one ends the
    /// search). The current match is the last one starting before
    /// `before_offset`: nearest to what the person reads, looking back.
    pub(super) fn start(&mut self, buffer: &gtk::TextBuffer, query: &str, before_offset: i32) {
        self.clear();
        self.query = query.to_owned();
        if query.is_empty() {
            return;
        }
        self.matches = self.find(buffer, &buffer.start_iter(), &buffer.end_iter());
        if !self.matches.is_empty() {
            let before = self
                .matches
                .partition_point(|&(start, _)| start < before_offset);
            self.current = Some(before.saturating_sub(1));
        }
    }

    /// Ends the search: no query, nothing to highlight.
    pub(super) fn clear(&mut self) {
        self.query.clear();
        self.matches.clear();
        self.current = None;
    }

    /// The buffer was emptied; the query stays for the lines to come.
    pub(super) fn buffer_cleared(&mut self) {
        self.matches.clear();
        self.current = None;
    }

    /// Moves the current match one on (or back), wrapping around; returns
    /// its offsets.
    pub(super) fn step(&mut self, forward: bool) -> Option<(i32, i32)> {
        let count = self.matches.len();
        let current = self.current?;
        let next = if forward {
            (current + 1) % count
        } else {
            (current + count - 1) % count
        };
        self.current = Some(next);
        self.current_range()
    }

    /// Text was added at the end, from `from_offset` on.
    pub(super) fn appended(&mut self, buffer: &gtk::TextBuffer, from_offset: i32) {
        if !self.is_active() {
            return;
        }
        // New text starts with a line break, so no match spans the seam;
        // past the last known match, so none is counted twice.
        let known_end = self.matches.last().map_or(0, |&(_, end)| end);
        let from = buffer.iter_at_offset(from_offset.max(known_end));
        let found = self.find(buffer, &from, &buffer.end_iter());
        self.matches.extend(found);
        if self.current.is_none() && !self.matches.is_empty() {
            self.current = Some(0);
        }
    }

    /// `length` characters were inserted at `at` (earlier history).
    pub(super) fn inserted(&mut self, buffer: &gtk::TextBuffer, at: i32, length: i32) {
        if !self.is_active() || length <= 0 {
            return;
        }
        let split = self.matches.partition_point(|&(start, _)| start < at);
        for (start, end) in &mut self.matches[split..] {
            *start += length;
            *end += length;
        }
        let found = self.find(
            buffer,
            &buffer.iter_at_offset(at),
            &buffer.iter_at_offset(at + length),
        );
        let added = found.len();
        self.matches.splice(split..split, found);
        self.current = match self.current {
            Some(current) if current >= split => Some(current + added),
            Some(current) => Some(current),
            None if !self.matches.is_empty() => Some(0),
            None => None,
        };
    }

    /// The characters `[from, to)` were deleted (offsets from before the
    /// deletion); a match cut in part is no match any more.
    pub(super) fn deleted(&mut self, from: i32, to: i32) {
        if !self.is_active() || to <= from {
            return;
        }
        let first_gone = self.matches.partition_point(|&(_, end)| end <= from);
        let first_kept = self.matches.partition_point(|&(start, _)| start < to);
        let gone = first_kept.saturating_sub(first_gone);
        self.matches.drain(first_gone..first_kept);
        let removed = to - from;
        for (start, end) in &mut self.matches[first_gone..] {
            *start -= removed;
            *end -= removed;
        }
        self.current = match self.current {
            Some(current) if current >= first_kept => Some(current - gone),
            Some(current) if current < first_gone => Some(current),
            // The current match went: the next one takes over.
            Some(_) if !self.matches.is_empty() => Some(first_gone.min(self.matches.len() - 1)),
            _ => None,
        };
    }

    /// Highlights the matches within the characters `[from, to)`, whose
    /// earlier highlighting the caller removed.
    pub(super) fn paint(&self, buffer: &gtk::TextBuffer, tags: &SearchTags, from: i32, to: i32) {
        let first = self.matches.partition_point(|&(_, end)| end <= from);
        let last = self.matches.partition_point(|&(start, _)| start < to);
        for index in first..last {
            let (start, end) = self.matches[index];
            let tag = if Some(index) == self.current {
                &tags.current
            } else {
                &tags.found
            };
            buffer.apply_tag(
                tag,
                &buffer.iter_at_offset(start.max(from)),
                &buffer.iter_at_offset(end.min(to)),
            );
        }
    }

    /// Every match of the query in `[from, to)`.
    fn find(
        &self,
        buffer: &gtk::TextBuffer,
        from: &gtk::TextIter,
        to: &gtk::TextIter,
    ) -> Vec<(i32, i32)> {
        // One copy of the text, searched in Rust: `TextIter::forward_search`
        // folds and allocates line by line (100,000 lines: about 0.6 s to
        // find nothing, against 0.1 s here).
        let text = buffer.slice(from, to, true);
        let base = from.offset();
        find_ignoring_case(&text, &self.query)
            .into_iter()
            .filter_map(|(start, end)| {
                let start = base.checked_add(i32::try_from(start).ok()?)?;
                let end = base.checked_add(i32::try_from(end).ok()?)?;
                Some((start, end))
            })
            .collect()
    }
}

/// Where `query` occurs in `text`, ignoring case (Unicode lower case, so
/// "élodie" finds "Élodie"), as character ranges `[start, end)`. Matches do
/// not overlap and never span lines.
pub(super) fn find_ignoring_case(text: &str, query: &str) -> Vec<(usize, usize)> {
    let (query, _) = fold(query);
    let mut found = Vec::new();
    if query.is_empty() {
        return found;
    }
    let mut line_start = 0;
    for line in text.split('\n') {
        if line.is_ascii() {
            // Most lines: one byte per character, folded in place.
            let folded = line.to_ascii_lowercase();
            found.extend(
                folded
                    .match_indices(&query)
                    .map(|(at, _)| (line_start + at, line_start + at + query.len())),
            );
            line_start += line.len() + 1;
            continue;
        }
        let (folded, starts) = fold(line);
        // The character whose folding covers folded byte `at`.
        let char_at = |at: usize| starts.partition_point(|&start| start <= at) - 1;
        for (at, matched) in folded.match_indices(&query) {
            let first = char_at(at);
            let last = char_at(at + matched.len() - 1);
            found.push((line_start + first, line_start + last + 1));
        }
        line_start += starts.len() + 1;
    }
    found
}

/// `text` in lower case, and where each of its characters' folding starts
/// (a character may fold to several: "İ" is "i̇").
fn fold(text: &str) -> (String, Vec<usize>) {
    let mut folded = String::with_capacity(text.len());
    let mut starts = Vec::with_capacity(text.len());
    for c in text.chars() {
        starts.push(folded.len());
        folded.extend(c.to_lowercase());
    }
    (folded, starts)
}

#[cfg(test)]
mod tests {
    use super::find_ignoring_case;

    #[test]
    fn ignores_case_in_any_script() {
        assert_eq!(
            find_ignoring_case("Hello hello HELLO", "hello"),
            [(0, 5), (6, 11), (12, 17)]
        );
        assert_eq!(find_ignoring_case("say hi to Élodie", "ÉLODIE"), [(10, 16)]);
        assert_eq!(find_ignoring_case("早上好 hello 世界", "世界"), [(10, 12)]);
    }

    #[test]
    fn counts_characters_across_lines() {
        let text = "né\nÉté\nplain été";
        assert_eq!(find_ignoring_case(text, "été"), [(3, 6), (13, 16)]);
        assert_eq!(find_ignoring_case(text, "\n"), [], "no match spans lines");
    }

    #[test]
    fn characters_that_fold_to_several() {
        // "İ" folds to "i" and a combining dot: a match on its "i" covers it.
        assert_eq!(find_ignoring_case("xİy", "i"), [(1, 2)]);
        assert_eq!(find_ignoring_case("İstanbul", "STANBUL"), [(1, 8)]);
    }

    #[test]
    fn nothing_for_an_empty_query_or_no_match() {
        assert!(find_ignoring_case("anything", "").is_empty());
        assert!(find_ignoring_case("anything", "nothing").is_empty());
    }
}

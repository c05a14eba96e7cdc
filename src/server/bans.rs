//! A channel's ban list: `nick!user@host` masks with `*` and `?`, compared
//! folded, and bounded (a hostile operator must not grow it without end).

use crate::protocol::fold_case;

/// Bans one channel keeps (advertised as `MAXLIST=b:…`); more are refused
/// with 478.
pub const MAX_BANS: usize = 100;
/// Longest mask kept: a MODE line with the most masks must fit in 512 bytes.
pub const MAX_MASK_BYTES: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Ban {
    /// Full `nick!user@host` form.
    pub mask: String,
    pub set_by: String,
    /// Seconds since the Unix epoch.
    pub set_at: u64,
}

/// A mask as kept: `ann` means `ann!*@*`, `*@host` means `*!*@host`
/// (what ngircd and InspIRCd do). `None` for one too long to keep.
pub(super) fn full_mask(mask: &str) -> Option<String> {
    let full = match (mask.split_once('!'), mask.contains('@')) {
        (Some(_), true) => mask.to_owned(),
        (Some(_), false) => format!("{mask}@*"),
        (None, true) => format!("*!{mask}"),
        (None, false) => format!("{mask}!*@*"),
    };
    (full.len() <= MAX_MASK_BYTES && !full.contains(' ')).then_some(full)
}

/// Whether `mask` (with `*` for any run, `?` for one character) matches
/// all of `text`, ignoring case as nicknames do.
pub(super) fn matches(mask: &str, text: &str) -> bool {
    let mask: Vec<char> = fold_case(mask).chars().collect();
    let text: Vec<char> = fold_case(text).chars().collect();
    // Greedy with one backtrack point: linear in practice, never exponential.
    let (mut m, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match mask.get(m) {
            Some('*') => {
                star = Some((m, t));
                m += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                m += 1;
                t += 1;
            }
            _ => match star {
                Some((star_m, star_t)) => {
                    m = star_m + 1;
                    t = star_t + 1;
                    star = Some((star_m, star_t + 1));
                }
                None => return false,
            },
        }
    }
    mask[m..].iter().all(|c| *c == '*')
}

/// Why a ban could not be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BanError {
    AlreadyThere,
    Full,
}

#[derive(Debug, Default)]
pub(super) struct BanList(Vec<Ban>);

impl BanList {
    pub fn add(&mut self, ban: Ban) -> Result<(), BanError> {
        if self
            .0
            .iter()
            .any(|b| fold_case(&b.mask) == fold_case(&ban.mask))
        {
            return Err(BanError::AlreadyThere);
        }
        if self.0.len() >= MAX_BANS {
            return Err(BanError::Full);
        }
        self.0.push(ban);
        Ok(())
    }

    /// Whether a ban with this mask was there.
    pub fn remove(&mut self, mask: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|b| fold_case(&b.mask) != fold_case(mask));
        self.0.len() != before
    }

    /// Whether someone known as `prefix` (`nick!user@host`) is banned.
    pub fn bans(&self, prefix: &str) -> bool {
        self.0.iter().any(|b| matches(&b.mask, prefix))
    }

    pub fn list(&self) -> &[Ban] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_match_with_wildcards_ignoring_case() {
        assert!(matches("*!*@127.0.0.1", "Ann!ann@127.0.0.1"));
        assert!(matches("ann!*@*", "ANN!x@y"));
        assert!(matches("a?n!*@*", "abn!x@y"));
        assert!(!matches("a?n!*@*", "an!x@y"));
        assert!(matches("*a*b*", "xxaxxbxx"));
        assert!(!matches("*a*b", "xxaxxbxx"));
        assert!(!matches("bob!*@*", "bobby!x@y"));
        assert!(matches("*", ""));
        // Many stars against a long text stay quick.
        let text = "a".repeat(60);
        assert!(!matches("*a*a*a*a*a*a*a*a*b", &text));
    }

    #[test]
    fn short_masks_are_completed_and_long_ones_refused() {
        assert_eq!(full_mask("ann").as_deref(), Some("ann!*@*"));
        assert_eq!(full_mask("*@host").as_deref(), Some("*!*@host"));
        assert_eq!(full_mask("ann!u").as_deref(), Some("ann!u@*"));
        assert_eq!(full_mask(&"x".repeat(80)), None);
    }

    #[test]
    fn the_list_is_bounded_and_has_no_repeats() {
        let ban = |mask: String| Ban {
            mask,
            set_by: "op".into(),
            set_at: 0,
        };
        let mut list = BanList::default();
        for i in 0..MAX_BANS {
            list.add(ban(format!("n{i}!*@*"))).unwrap();
        }
        assert_eq!(list.add(ban("N1!*@*".into())), Err(BanError::AlreadyThere));
        assert_eq!(list.add(ban("more!*@*".into())), Err(BanError::Full));
        assert!(list.bans("n5!u@h"));
        assert!(list.remove("N5!*@*"));
        assert!(!list.bans("n5!u@h"));
    }
}

//! Stable nickname colours, readable on light and on dark backgrounds.
//! GTK-free; the log and the member list both use it.

use crate::protocol::fold_case;

/// GNOME palette shades dark enough for a light background…
const LIGHT: [&str; 8] = [
    "#1c71d8", "#26a269", "#c64600", "#c01c28", "#813d9c", "#865e3c", "#0c7b77", "#b5366b",
];
/// …and the matching light shades for a dark one.
const DARK: [&str; 8] = [
    "#62a0ea", "#57e389", "#ffa348", "#f66151", "#dc8add", "#cdab8f", "#5bc8af", "#f386b6",
];

pub const COLOURS: usize = LIGHT.len();

/// The same nick (in any letter case) always gets the same slot: FNV-1a
/// over its folded form, which needs no randomness and no state.
pub fn slot(nick: &str) -> usize {
    let hash = fold_case(nick).bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    (hash % COLOURS as u32) as usize
}

/// The colour of `slot` as `#rrggbb`.
pub fn colour(slot: usize, dark: bool) -> &'static str {
    let palette = if dark { &DARK } else { &LIGHT };
    palette[slot % COLOURS]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_stable_and_case_blind() {
        assert_eq!(slot("Alice"), slot("alice"));
        assert_eq!(slot("alice"), slot("alice"));
        assert!(slot("") < COLOURS);
    }

    #[test]
    fn slots_spread_over_the_palette() {
        let used: std::collections::HashSet<usize> =
            (0..64).map(|n| slot(&format!("user{n}"))).collect();
        assert_eq!(used.len(), COLOURS);
    }

    #[test]
    fn every_slot_has_both_shades() {
        for slot in 0..COLOURS {
            assert_ne!(colour(slot, false), colour(slot, true));
        }
    }
}

//! Stable nickname colours, and the log's other text colours, readable on
//! light and on dark backgrounds: each meets WCAG AA (4.5:1) against the
//! log's background, also under the tints of our own lines and of mentions
//! (tested below). GTK-free; the log and the member list both use it.

use crate::protocol::fold_case;

/// GNOME palette shades dark enough for a light background (blue, green,
/// orange and teal a little darker than GNOME's, for 4.5:1 on the tints)…
const LIGHT: [&str; 8] = [
    "#1a6acb", "#1c7a4f", "#be4300", "#c01c28", "#813d9c", "#865e3c", "#0c7773", "#b5366b",
];
/// …and the matching light shades for a dark one.
const DARK: [&str; 8] = [
    "#78aded", "#57e389", "#ffa348", "#f88c80", "#dd8ede", "#cdab8f", "#5bc8af", "#f388b7",
];

/// The log's background: libadwaita 1.2's `@view_bg_color`, light and
/// dark. Its high-contrast styles keep these, so the checks cover them too.
pub const LIGHT_BACKGROUND: &str = "#ffffff";
pub const DARK_BACKGROUND: &str = "#1e1e1e";

/// Red, green, blue, alpha (0–1) of a tint laid over the background.
pub type Tint = (f64, f64, f64, f64);

/// Behind our own lines, in both styles.
pub const OWN_LINE_TINT: Tint = (0.21, 0.52, 0.89, 0.10);

/// Amber behind a line that names the person, as chat apps mark mentions:
/// strong enough to find, light enough to read through.
pub fn mention_tint(dark: bool) -> Tint {
    if dark {
        (0.90, 0.65, 0.04, 0.22)
    } else {
        (0.96, 0.76, 0.07, 0.25)
    }
}

/// The log's colours besides the nicks', as `#rrggbb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextColours {
    /// Times, system lines, notices, earlier history, dividers.
    pub quiet: &'static str,
    pub error: &'static str,
    /// Links and the "New messages" line.
    pub link: &'static str,
}

pub fn text_colours(dark: bool) -> TextColours {
    if dark {
        TextColours {
            quiet: "#abaaa8",
            error: "#ff8873",
            link: "#78aeed",
        }
    } else {
        TextColours {
            quiet: "#6c6b70",
            error: "#c01c28",
            link: "#1a5fb4",
        }
    }
}

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

    /// `#rrggbb` as red, green, blue in 0–1.
    fn rgb(hex: &str) -> [f64; 3] {
        let channel = |at: usize| {
            f64::from(u8::from_str_radix(&hex[at..at + 2], 16).expect("hex colour")) / 255.0
        };
        [channel(1), channel(3), channel(5)]
    }

    /// WCAG 2 relative luminance.
    fn luminance([r, g, b]: [f64; 3]) -> f64 {
        let linear = |c: f64| {
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    }

    fn contrast(a: [f64; 3], b: [f64; 3]) -> f64 {
        let (a, b) = (luminance(a), luminance(b));
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    fn tinted(background: [f64; 3], (r, g, b, alpha): Tint) -> [f64; 3] {
        let mix = |tint: f64, under: f64| tint * alpha + under * (1.0 - alpha);
        [
            mix(r, background[0]),
            mix(g, background[1]),
            mix(b, background[2]),
        ]
    }

    #[test]
    fn every_colour_meets_wcag_aa_on_every_log_background() {
        let mut failures = Vec::new();
        for dark in [false, true] {
            let plain = rgb(if dark {
                DARK_BACKGROUND
            } else {
                LIGHT_BACKGROUND
            });
            let backgrounds = [
                ("plain", plain),
                ("own line", tinted(plain, OWN_LINE_TINT)),
                ("mention", tinted(plain, mention_tint(dark))),
            ];
            let text = text_colours(dark);
            let named = (0..COLOURS)
                .map(|slot| (format!("nick {slot}"), colour(slot, dark)))
                .chain([
                    ("quiet".to_owned(), text.quiet),
                    ("error".to_owned(), text.error),
                    ("link".to_owned(), text.link),
                ]);
            for (name, hex) in named {
                for (under, background) in backgrounds {
                    let ratio = contrast(rgb(hex), background);
                    if ratio < 4.5 {
                        failures.push(format!(
                            "{name} {hex} on the {under} {} background: {ratio:.2}:1",
                            if dark { "dark" } else { "light" }
                        ));
                    }
                }
            }
        }
        assert!(failures.is_empty(), "below 4.5:1:\n{}", failures.join("\n"));
    }

    #[test]
    fn contrast_matches_known_values() {
        assert!((contrast(rgb("#000000"), rgb("#ffffff")) - 21.0).abs() < 1e-9);
        assert!((contrast(rgb("#777777"), rgb("#ffffff")) - 4.48).abs() < 0.01);
    }
}

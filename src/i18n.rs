//! Translations, through the system's gettext (glibc's libintl). GTK-free, so
//! the headless host's plain-text messages follow the host's locale as the
//! window does. Every user-visible string in Rust goes through [`gettext`],
//! [`gettext_f`] or [`ngettext_f`], which is what `make pot` looks for
//! (`xgettext --keyword=gettext --keyword=gettext_f --keyword=ngettext_f:1,2`).
//! GtkBuilder translates the `.ui` files through the same default domain.

use std::path::{Path, PathBuf};
use std::sync::{Once, OnceLock};

use gettextrs::LocaleCategory;

/// The text domain: the catalogue is `<lang>/LC_MESSAGES/tcp-chat.mo`.
pub const DOMAIN: &str = "tcp-chat";

/// The catalogues `build.rs` compiles, for `cargo run` and the tests.
const BUILD_TREE_LOCALE_DIR: &str = concat!(env!("OUT_DIR"), "/locale");

/// What [`init`] found, kept until logging is set up ([`log_setup`]).
static SETUP: OnceLock<(log::Level, String)> = OnceLock::new();

/// Sets the locale from the environment and binds the `tcp-chat` domain to
/// the installed catalogues (`<exe>/../share/locale`) or else the build
/// tree's. Call once, first thing in `main`, before any thread starts and
/// before GTK or the command-line help say anything. Without catalogues
/// everything stays English.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let setup = match bind() {
            Ok(dir) => (
                log::Level::Debug,
                format!("translations from {}", dir.display()),
            ),
            Err(why) => (log::Level::Warn, format!("{why}: text stays English")),
        };
        let _ = SETUP.set(setup);
    });
}

/// Logs what [`init`] found; for once the logger is up.
pub fn log_setup() {
    if let Some((level, text)) = SETUP.get() {
        log::log!(*level, "{text}");
    }
}

fn bind() -> Result<PathBuf, String> {
    if set_locale_from_environment().is_none() {
        // An unknown LANG (say, a locale not generated here): glibc keeps "C".
        return Err("the locale named by LANG/LC_* is not available".to_owned());
    }
    let dir = locale_dir().ok_or_else(|| {
        format!("no {DOMAIN}.mo catalogue next to the program nor in {BUILD_TREE_LOCALE_DIR}")
    })?;
    gettextrs::bindtextdomain(DOMAIN, dir.as_path())
        .and_then(|_| gettextrs::bind_textdomain_codeset(DOMAIN, "UTF-8"))
        .map_err(|err| format!("cannot bind the {DOMAIN} text domain: {err}"))?;
    // Only once the codeset is UTF-8: gettext-rs cannot return other bytes.
    gettextrs::textdomain(DOMAIN)
        .map_err(|err| format!("cannot select the {DOMAIN} text domain: {err}"))?;
    Ok(dir)
}

/// `setlocale(LC_ALL, "")`: the locale LANG, LC_* and LANGUAGE ask for.
#[allow(unsafe_code)]
fn set_locale_from_environment() -> Option<Vec<u8>> {
    // SAFETY: setlocale races with other threads reading the locale or the
    // environment; `init` runs first thing in `main`, before any thread.
    unsafe { gettextrs::setlocale(LocaleCategory::LcAll, "") }
}

/// The installed catalogues when they hold ours (`make install`, the .deb),
/// else the build tree's.
fn locale_dir() -> Option<PathBuf> {
    let installed = std::env::current_exe().ok().and_then(|exe| {
        let prefix = exe.parent()?.parent()?;
        Some(prefix.join("share").join("locale"))
    });
    installed
        .into_iter()
        .chain([PathBuf::from(BUILD_TREE_LOCALE_DIR)])
        .find(|dir| holds_catalogue(dir))
}

/// Whether any `<lang>/LC_MESSAGES/tcp-chat.mo` is under `dir`.
fn holds_catalogue(dir: &Path) -> bool {
    let catalogue = format!("{DOMAIN}.mo");
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|entry| entry.path().join("LC_MESSAGES").join(&catalogue).is_file())
    })
}

/// The translation of `msgid` (`msgid` itself without a catalogue).
pub fn gettext(msgid: &str) -> String {
    gettextrs::gettext(msgid)
}

/// Translates `msgid` (`plural` when `n` is not one, by the language's own
/// rule), then fills its `{name}` placeholders like [`gettext_f`].
pub fn ngettext_f(msgid: &str, plural: &str, n: u64, args: &[(&str, &str)]) -> String {
    // No count shown in the app comes near u32::MAX.
    let n = u32::try_from(n).unwrap_or(u32::MAX);
    fill(&gettextrs::ngettext(msgid, plural, n), args)
}

/// Translates `msgid`, then fills its `{name}` placeholders in one pass (so a
/// value such as the nickname `{room}` is never expanded again). Named rather
/// than positional, so a translation may reorder them.
pub fn gettext_f(msgid: &str, args: &[(&str, &str)]) -> String {
    fill(&gettext(msgid), args)
}

fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut text = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            args.iter()
                .find(|(arg, _)| *arg == name)
                .map(|(_, value)| (*value, close))
        });
        match value {
            Some((value, close)) => {
                text.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                text.push('{');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_by_name() {
        assert_eq!(
            fill("{who} joined {room}", &[("room", "#chat"), ("who", "bob")]),
            "bob joined #chat"
        );
    }

    #[test]
    fn values_are_not_expanded_again() {
        assert_eq!(fill("{a} {b}", &[("a", "{b}"), ("b", "x")]), "{b} x");
    }

    #[test]
    fn build_tree_holds_the_compiled_catalogues() {
        assert!(holds_catalogue(Path::new(BUILD_TREE_LOCALE_DIR)));
    }

    #[test]
    fn a_locale_dir_counts_only_with_our_catalogue() {
        let dir = tempfile::tempdir().unwrap();
        let messages = dir.path().join("zh_CN").join("LC_MESSAGES");
        std::fs::create_dir_all(&messages).unwrap();
        std::fs::write(messages.join("other-app.mo"), b"").unwrap();
        assert!(!holds_catalogue(dir.path()));
        std::fs::write(messages.join("tcp-chat.mo"), b"").unwrap();
        assert!(holds_catalogue(dir.path()));
        assert!(!holds_catalogue(&dir.path().join("missing")));
    }

    #[test]
    fn unknown_or_unclosed_braces_stay() {
        assert_eq!(fill("{nope} {a", &[("a", "x")]), "{nope} {a");
    }
}

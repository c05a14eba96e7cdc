#!/usr/bin/env bash
# Translation checks, run by `make test`:
# - po/tcp-chat.pot is what `make pot` makes from today's sources (not stale);
# - every language of po/LINGUAS translates every string of that template, none fuzzy,
#   and its catalogue compiles (msgfmt --check).
# Names the strings at fault. Writes only under the cargo target directory.
set -euo pipefail

cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}
target=${CARGO_TARGET_DIR:-target}
work=$target/i18n-check
rm -rf "$work"
mkdir -p "$work"
failures=0
fail() { failures=$((failures + 1)); echo "FAIL - $*" >&2; }

# Every file with translatable strings is read by `make pot`.
unlisted=$(comm -23 \
    <({ grep -rlE '\b(n?gettext(_f)?)\(' src --include='*.rs'; grep -l 'translatable="yes"' resources/ui/*.ui; } | sort -u) \
    <(sed 's/#.*//; /^$/d' po/POTFILES | sort -u))
if [[ -n $unlisted ]]; then
    fail "po/POTFILES misses files with translatable strings:"
    sed 's/^/  /' <<<"$unlisted" >&2
else
    echo "ok - po/POTFILES lists every file with translatable strings"
fi

fresh=$work/tcp-chat.pot
if ! $MAKE --no-print-directory pot POT="$fresh" >"$work/pot.log" 2>&1; then
    sed 's/^/  /' "$work/pot.log" >&2
    echo "FAIL - make pot could not regenerate the template" >&2
    exit 1
fi

# The creation date changes at every run; nothing else may.
without_date() { grep -v '^"POT-Creation-Date: ' "$1"; }
if diff <(without_date po/tcp-chat.pot) <(without_date "$fresh") >"$work/pot.diff"; then
    echo "ok - po/tcp-chat.pot is up to date"
else
    fail "po/tcp-chat.pot is stale: run 'make pot' and commit it (- committed, + sources):"
    grep '^[<>] msgid' "$work/pot.diff" | sed 's/^</  -/; s/^>/  +/' >&2 || sed 's/^/  /' "$work/pot.diff" >&2
fi

# One msgid per line, for the report.
msgids() { msgattrib --no-wrap --no-location --no-obsolete "$@" | sed -n 's/^msgid "\(..*\)"$/  \1/p'; }

for lang in $(sed 's/#.*//' po/LINGUAS); do
    po=po/$lang.po
    if [[ ! -f $po ]]; then
        fail "$po is missing (listed in po/LINGUAS)"
        continue
    fi
    if ! msgfmt --check -o /dev/null "$po" 2>"$work/$lang.msgfmt"; then
        fail "$po does not compile:"
        sed 's/^/  /' "$work/$lang.msgfmt" >&2
    fi
    merged=$work/$lang.po
    msgmerge --quiet --no-fuzzy-matching --no-wrap "$po" "$fresh" -o "$merged"
    untranslated=$(msgids --untranslated "$merged")
    fuzzy=$(msgids --only-fuzzy "$merged")
    if [[ -n $untranslated ]]; then
        fail "$po does not translate $(wc -l <<<"$untranslated") string(s) of the template:"
        echo "$untranslated" >&2
    fi
    if [[ -n $fuzzy ]]; then
        fail "$po has $(wc -l <<<"$fuzzy") fuzzy string(s):"
        echo "$fuzzy" >&2
    fi
    if [[ -z $untranslated && -z $fuzzy ]]; then
        echo "ok - $po: $(msgfmt --statistics -o /dev/null "$merged" 2>&1)"
    fi
done

if ((failures)); then
    echo "i18n: $failures failed (fix: make pot, then translate in po/LANG.po)" >&2
    exit 1
fi
echo "i18n: all passed"

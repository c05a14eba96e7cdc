#!/usr/bin/env bash
# Desktop packaging checks for TCP Chat.
#
#   tests/packaging.sh [metadata|install|deb|launch|all]   (default: all)
#
# metadata: the desktop entry, metainfo and icons are valid and agree with each other, and
#           so are the translated entry and metainfo `make translations` merges from po/.
# install:  `make install DESTDIR=… PREFIX=/usr` puts exactly our files in place and
#           `make uninstall` removes every one of them (the catalogues of po/LINGUAS too).
# deb:      `make deb` builds a package with those same files and the right Depends.
# launch:   installs into a temporary prefix, starts a headless host, launches the
#           INSTALLED desktop entry the way a launcher does (gtk4-launch, under Xvfb) with
#           an irc:// URL, and proves the window joined the room with a probe IRC client.
#
# Only loopback is used. Everything started here is stopped on exit.
set -euo pipefail

cd "$(dirname "$0")/.."
readonly APP_ID=io.github.tcpchat.TcpChat
readonly DESKTOP_FILE=data/$APP_ID.desktop
readonly METAINFO_FILE=data/$APP_ID.metainfo.xml
readonly APP_ICON=data/icons/hicolor/scalable/apps/$APP_ID.svg
readonly SYMBOLIC_ICON=data/icons/hicolor/symbolic/apps/$APP_ID-symbolic.svg
readonly LAUNCH_TIMEOUT_SECONDS=90
MAKE=${MAKE:-make}
# Where `make translations` writes the translated desktop entry and metainfo.
readonly I18N_DIR=${CARGO_TARGET_DIR:-target}/i18n
LANGUAGES=$(sed 's/#.*//' po/LINGUAS | xargs)
readonly LANGUAGES

failures=0
passes=0
pass() { passes=$((passes + 1)); echo "ok - $*"; }
fail() { failures=$((failures + 1)); echo "FAIL - $*" >&2; }
indent() { sed "s/^/  ${1:-}/"; } # indent [LABEL]: prefixes each line of stdin
check() { # check DESCRIPTION COMMAND...: runs the command; its output is shown on failure
    local description=$1 output
    shift
    if output=$("$@" 2>&1); then
        pass "$description"
    else
        fail "$description"
        if [[ -n $output ]]; then indent <<<"$output" >&2; fi
    fi
}

scratch_dirs=()
cleanup_commands=()
cleanup() {
    local command
    for command in "${cleanup_commands[@]}"; do eval "$command" || true; done
    if ((${#scratch_dirs[@]})); then rm -rf "${scratch_dirs[@]}"; fi
}
trap cleanup EXIT
# Dying of a signal (e.g. `timeout`) must still run the cleanup.
trap 'exit 143' TERM
trap 'exit 130' INT
make_scratch_dir() { # sets $scratch to a fresh directory removed on exit
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/tcp-chat-packaging.XXXXXX")
    scratch_dirs+=("$scratch")
}

# What `make install DESTDIR=… PREFIX=/usr` must install, relative to DESTDIR: written out
# here independently of the Makefile, so that a file dropped from it is noticed.
expected_files() {
    printf '%s\n' \
        usr/bin/tcp-chat \
        "usr/share/applications/$APP_ID.desktop" \
        "usr/share/metainfo/$APP_ID.metainfo.xml" \
        "usr/share/icons/hicolor/scalable/apps/$APP_ID.svg" \
        "usr/share/icons/hicolor/symbolic/apps/$APP_ID-symbolic.svg"
    local schema lang
    for lang in $LANGUAGES; do
        echo "usr/share/locale/$lang/LC_MESSAGES/tcp-chat.mo"
    done
    for schema in data/*.gschema.xml; do
        [[ -e $schema ]] && echo "usr/share/glib-2.0/schemas/${schema##*/}"
    done
    return 0
}

desktop_key() { # desktop_key KEY [FILE]: the value of KEY in the [Desktop Entry] group
    sed -n "/^\[Desktop Entry\]/,/^\[/s/^$1=//p" "${2:-$DESKTOP_FILE}" | head -n1
}

same_lists() { # same_lists WHAT EXPECTED ACTUAL: compares two newline lists, shows the diff
    local what=$1 expected=$2 actual=$3
    if [[ $expected == "$actual" ]]; then return 0; fi
    echo "  $what differ (- expected, + actual):" >&2
    diff <(echo "$expected") <(echo "$actual") | sed -n 's/^< /  -/p; s/^> /  +/p' >&2
    return 1
}

check_metadata() {
    echo "# metadata"
    check "desktop-file-validate $DESKTOP_FILE" desktop-file-validate "$DESKTOP_FILE"
    check "appstreamcli validate --no-net $METAINFO_FILE" \
        appstreamcli validate --no-net "$METAINFO_FILE"
    check "desktop entry launches tcp-chat with a URL (Exec=tcp-chat %u)" \
        test "$(desktop_key Exec)" = "tcp-chat %u"
    check "desktop entry Icon is the app ID" test "$(desktop_key Icon)" = "$APP_ID"
    check "desktop entry handles irc:// links" test "$(desktop_key MimeType)" = "x-scheme-handler/irc;"
    check "desktop entry is not DBusActivatable (no D-Bus service file)" \
        test -z "$(desktop_key DBusActivatable)"
    check_translated_metadata
    check "metainfo id is the app ID" grep -q "<id>$APP_ID</id>" "$METAINFO_FILE"
    check "metainfo launchable is the desktop entry" \
        grep -q "<launchable type=\"desktop-id\">${DESKTOP_FILE##*/}</launchable>" "$METAINFO_FILE"
    check "metainfo provides the tcp-chat binary" grep -q "<binary>tcp-chat</binary>" "$METAINFO_FILE"
    local version
    version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
    check "metainfo has a release for the crate version $version" \
        grep -q "<release version=\"$version\"" "$METAINFO_FILE"
    check "symbolic icon uses only #2e3436" \
        test -z "$(grep -oiE '#[0-9a-f]{3,6}\b' "$SYMBOLIC_ICON" | grep -vix '#2e3436')"
    check "symbolic icon has no strokes (GTK recolours fills only)" \
        test -z "$(grep -oE 'stroke[a-z-]*[=:]' "$SYMBOLIC_ICON")"
    check "symbolic icon is 16x16" grep -q 'viewBox="0 0 16 16"' "$SYMBOLIC_ICON"
    if command -v rsvg-convert >/dev/null; then
        local icon
        make_scratch_dir
        for icon in "$APP_ICON" "$SYMBOLIC_ICON"; do
            check "$icon renders at 16 px" renders_at_16px "$icon" "$scratch/icon.png"
        done
    else
        echo "# skip: rsvg-convert (librsvg2-bin) not installed, icons not rendered"
    fi
}

# The desktop entry and metainfo with po/ merged in (msgfmt --desktop / --xml), as installed.
check_translated_metadata() {
    local desktop=$I18N_DIR/${DESKTOP_FILE##*/} metainfo=$I18N_DIR/${METAINFO_FILE##*/} log
    log=$(mktemp "${TMPDIR:-/tmp}/tcp-chat-translations.XXXXXX")
    if ! $MAKE --no-print-directory translations >"$log" 2>&1; then
        fail "make translations (log below)"
        indent <"$log" >&2
        rm -f "$log"
        return
    fi
    rm -f "$log"
    pass "make translations"
    check "desktop-file-validate $desktop" desktop-file-validate "$desktop"
    check "appstreamcli validate --no-net $metainfo" appstreamcli validate --no-net "$metainfo"
    local lang
    for lang in $LANGUAGES; do
        check "translated desktop entry has $lang Name, Comment and Keywords" \
            test -n "$(desktop_key "Name\\[$lang\\]" "$desktop")" \
            -a -n "$(desktop_key "Comment\\[$lang\\]" "$desktop")" \
            -a -n "$(desktop_key "Keywords\\[$lang\\]" "$desktop")"
        check "translated metainfo has $lang summary, description and caption" \
            test "$(grep -c "xml:lang=\"$lang\"" "$metainfo")" -ge 3
    done
    check "the Chinese name is TCP 聊天 in both" \
        test "$(desktop_key 'Name\[zh_CN\]' "$desktop")" = "TCP 聊天" \
        -a -n "$(grep -F '<name xml:lang="zh_CN">TCP 聊天</name>' "$metainfo")"
}

renders_at_16px() { # renders_at_16px SVG PNG: librsvg draws SVG into the file PNG
    rsvg-convert -w 16 -h 16 -o "$2" "$1" && [[ $(head -c 4 "$2") == $'\x89PNG' ]]
}

installed_files() { # installed_files ROOT: every file and link under ROOT, relative, sorted
    (cd "$1" && find . \( -type f -o -type l \) | sed 's|^\./||' | LC_ALL=C sort)
}

check_install() {
    echo "# install / uninstall"
    make_scratch_dir
    local root=$scratch/root expected
    expected=$(expected_files | LC_ALL=C sort)
    if ! $MAKE --no-print-directory install DESTDIR="$root" PREFIX=/usr >"$scratch/install.log" 2>&1; then
        fail "make install DESTDIR=… PREFIX=/usr (log below)"
        indent <"$scratch/install.log" >&2
        return
    fi
    pass "make install DESTDIR=… PREFIX=/usr"
    local file
    while read -r file; do
        check "installed $file" test -f "$root/$file"
    done <<<"$expected"
    check "installed nothing else" same_lists "installed files" "$expected" "$(installed_files "$root")"
    check "installed binary is executable" test -x "$root/usr/bin/tcp-chat"
    check "installed data files are mode 644" \
        test -z "$(find "$root/usr/share" -type f ! -perm 644)"
    check "installed desktop entry validates" \
        desktop-file-validate "$root/usr/share/applications/$APP_ID.desktop"
    check "installed desktop entry is the translated one" \
        grep -q '^Name\[zh_CN\]=' "$root/usr/share/applications/$APP_ID.desktop"
    local lang
    for lang in $LANGUAGES; do
        check "installed $lang catalogue is a compiled .mo" \
            msgunfmt -o /dev/null "$root/usr/share/locale/$lang/LC_MESSAGES/tcp-chat.mo"
    done

    if ! $MAKE --no-print-directory uninstall DESTDIR="$root" PREFIX=/usr >"$scratch/uninstall.log" 2>&1; then
        fail "make uninstall DESTDIR=… PREFIX=/usr (log below)"
        indent <"$scratch/uninstall.log" >&2
        return
    fi
    pass "make uninstall DESTDIR=… PREFIX=/usr"
    check "uninstall removed every installed file" \
        same_lists "files left after uninstall" "" "$(installed_files "$root")"
}

check_deb() {
    echo "# deb"
    make_scratch_dir
    if ! $MAKE --no-print-directory deb >"$scratch/deb.log" 2>&1; then
        fail "make deb (log below)"
        indent <"$scratch/deb.log" >&2
        return
    fi
    pass "make deb"
    # cargo-deb prints the path of the package it wrote as its last line.
    local deb
    deb=$(tail -n1 "$scratch/deb.log")
    if [[ $deb != *.deb || ! -f $deb ]]; then
        fail "make deb names the package it built (last line: $deb)"
        return
    fi
    pass "built $(basename "$deb")"
    local contents
    contents=$(dpkg-deb -c "$deb")
    local packaged expected
    packaged=$(awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); print $6 }' <<<"$contents" |
        grep -v '^usr/share/doc/tcp-chat/' | LC_ALL=C sort)
    expected=$(expected_files | LC_ALL=C sort)
    check "package holds exactly the files make install puts in place" \
        same_lists "packaged files" "$expected" "$packaged"
    check "package has a copyright file" grep -q ' \./usr/share/doc/tcp-chat/copyright$' <<<"$contents"
    check "packaged binary is executable (755)" \
        grep -qE '^-rwxr-xr-x .* \./usr/bin/tcp-chat$' <<<"$contents"
    check "package is named tcp-chat" test "$(dpkg-deb -f "$deb" Package)" = tcp-chat
    local depends dependency
    depends=$(dpkg-deb -f "$deb" Depends)
    echo "# Depends: $depends"
    for dependency in 'libc6 ' 'libgtk-4-1 (>= 4.8)' 'libadwaita-1-0 (>= 1.2)' librsvg2-common libsqlite3-0; do
        check "package depends on $dependency" grep -qF -- "$dependency" <<<"$depends"
    done
}

# ---- launch check -------------------------------------------------------------------

free_loopback_port() { # a port nobody listens on (connection refused), from a random start
    local port attempt
    for attempt in $(seq 1 200); do
        port=$((20000 + (RANDOM * 32768 + RANDOM + attempt) % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

our_tcp_chat_pids() { # processes running the binary installed in $1 (argv[0] is tcp-chat)
    local pid
    for pid in $(pgrep -x tcp-chat || true); do
        if [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$1" ]]; then echo "$pid"; fi
    done
}

# Waits for the host to accept connections. The host reports readiness only in its log,
# whose wording is not ours to rely on, so this retries the connect, bounded by $deadline.
wait_for_host() {
    local port=$1 host_pid=$2
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        if ! kill -0 "$host_pid" 2>/dev/null; then
            echo "  the host exited before listening on 127.0.0.1:$port" >&2
            return 1
        fi
        if ((SECONDS >= deadline)); then
            echo "  the host did not listen on 127.0.0.1:$port within the timeout" >&2
            return 1
        fi
        sleep 0.1
    done
}

# Joins #room as an IRC client and reads until someone besides the probe is in it: either
# already in the 353 names reply, or by a JOIN that arrives later.
probe_room_for_window() {
    local port=$1 probe_nick=pkgprobe line command
    exec 4<>"/dev/tcp/127.0.0.1/$port"
    printf 'NICK %s\r\nUSER %s 0 * :packaging probe\r\nJOIN #room\r\n' \
        "$probe_nick" "$probe_nick" >&4
    local names="" in_room=0
    while ((SECONDS < deadline)); do
        if ! IFS= read -r -t "$((deadline - SECONDS))" line <&4; then
            echo "  the host closed the connection, or sent nothing more before the timeout" >&2
            break
        fi
        line=${line%$'\r'}
        echo "  < $line" >>"$probe_log"
        read -r -a words <<<"$line"
        command=${words[0]:-}
        [[ $command == :* ]] && command=${words[1]:-}
        case $command in
        PING) printf 'PONG %s\r\n' "${line#PING }" >&4 ;;
        353) names+=" ${line##* :}" ;;
        366)
            in_room=1
            if other_member_in "$names" "$probe_nick"; then
                echo "  names in #room:$names" >&2
                exec 4>&-
                return 0
            fi
            ;;
        JOIN)
            local joiner=${words[0]#:}
            joiner=${joiner%%!*}
            if ((in_room)) && [[ $joiner != "$probe_nick" ]]; then
                echo "  $joiner joined #room" >&2
                exec 4>&-
                return 0
            fi
            ;;
        esac
    done
    exec 4>&-
    echo "  names in #room:${names:- (no 353 reply)}; nobody else joined before the timeout" >&2
    return 1
}

other_member_in() { # other_member_in "NAMES" NICK: any name (prefix stripped) other than NICK?
    local name
    for name in $1; do
        name=${name#[@+%~&]}
        if [[ $name != "$2" ]]; then return 0; fi
    done
    return 1
}

check_launch() {
    [[ -n ${TCP_CHAT_LAUNCH_INNER:-} ]] || echo "# launch the installed desktop entry"
    local tool
    for tool in xvfb-run gtk4-launch; do
        if ! command -v "$tool" >/dev/null; then
            fail "launch check needs $tool (make deps-test installs it)"
            return
        fi
    done
    if [[ -z ${TCP_CHAT_LAUNCH_INNER:-} ]]; then
        # A private X server and session bus, so nothing leaks into the user's session.
        local bus=()
        if command -v dbus-run-session >/dev/null; then bus=(dbus-run-session --); fi
        local status=0
        TCP_CHAT_LAUNCH_INNER=1 timeout --kill-after=10 $((LAUNCH_TIMEOUT_SECONDS + 30)) \
            xvfb-run -a -s "-screen 0 1280x800x24" "${bus[@]}" "$0" launch || status=$?
        if ((status == 0)); then pass "installed entry launched and the window joined the room"; else
            fail "launch check (status $status)"
        fi
        return
    fi

    deadline=$((SECONDS + LAUNCH_TIMEOUT_SECONDS))
    make_scratch_dir
    local prefix=$scratch/usr
    probe_log=$scratch/probe.log
    # A real (non-DESTDIR) install: make also compiles the schemas and refreshes the caches,
    # as for a user install into ~/.local.
    if ! $MAKE --no-print-directory install PREFIX="$prefix" >"$scratch/install.log" 2>&1; then
        indent <"$scratch/install.log" >&2
        echo "FAIL: make install PREFIX=$prefix" >&2
        exit 1
    fi
    local binary=$prefix/bin/tcp-chat
    cleanup_commands+=("kill_ours '$binary'")

    # Keep the app away from the user's settings, state and own installs of TCP Chat.
    export HOME=$scratch/home XDG_CONFIG_HOME=$scratch/config XDG_DATA_HOME=$scratch/data \
        XDG_CACHE_HOME=$scratch/cache XDG_STATE_HOME=$scratch/state GSETTINGS_BACKEND=memory
    mkdir -p "$HOME"
    # Nor may it look for rooms on (or announce to) the machine's real network.
    export TCP_CHAT_NO_DISCOVERY=1
    export XDG_DATA_DIRS=$prefix/share:${XDG_DATA_DIRS:-/usr/local/share:/usr/share}
    export PATH=$prefix/bin:$PATH

    local port
    port=$(free_loopback_port) || { echo "FAIL: no free loopback port" >&2; exit 1; }
    "$binary" --serve --bind 127.0.0.1 --port "$port" --room '#room' >"$scratch/host.log" 2>&1 &
    local host_pid=$!
    cleanup_commands+=("kill $host_pid 2>/dev/null")
    if ! wait_for_host "$port" "$host_pid"; then
        indent "host: " <"$scratch/host.log" >&2
        echo "FAIL: the headless host (tcp-chat --serve) did not start" >&2
        exit 1
    fi

    if ! gtk4-launch "$APP_ID" "irc://127.0.0.1:$port/#room" >"$scratch/launch.log" 2>&1; then
        indent "gtk4-launch: " <"$scratch/launch.log" >&2
        echo "FAIL: gtk4-launch $APP_ID did not find or start the installed entry" >&2
        exit 1
    fi
    if probe_room_for_window "$port"; then
        echo "ok: the window launched from the installed entry joined #room"
        exit 0
    fi
    indent "probe: " <"$probe_log" >&2
    indent "host: " <"$scratch/host.log" >&2
    indent "gtk4-launch: " <"$scratch/launch.log" >&2
    echo "  tcp-chat processes from the install: $(our_tcp_chat_pids "$binary" | xargs echo)" >&2
    echo "FAIL: the launched window did not join #room on 127.0.0.1:$port" >&2
    exit 1
}

kill_ours() { # stops every process running the binary installed at $1
    local pids
    pids=$(our_tcp_chat_pids "$1")
    if [[ -n $pids ]]; then
        # shellcheck disable=SC2086 # one PID per word
        kill $pids 2>/dev/null || true
    fi
}

main() {
    local what=${1:-all}
    case $what in
    metadata) check_metadata ;;
    install) check_install ;;
    deb) check_deb ;;
    launch) check_launch ;;
    all)
        check_metadata
        check_install
        check_deb
        check_launch
        ;;
    *)
        echo "usage: $0 [metadata|install|deb|launch|all]" >&2
        exit 2
        ;;
    esac
    echo "packaging: $passes passed, $failures failed"
    ((failures == 0))
}

main "$@"

#!/bin/sh
# Retakes data/screenshots/room.png (the README and metainfo screenshot): the
# end-to-end GUI test hosts a room as "mei" under Xvfb, two raw IRC clients
# ("li" and "sam") chat in it over loopback, and GTK draws the window to a PNG.
set -eu
cd "$(dirname "$0")/../.."
TCP_CHAT_SCREENSHOT="$PWD/data/screenshots/room.png" \
    xvfb-run -a -s "-screen 0 1280x800x24" \
    cargo test --test gui_e2e -- three_people_chat
echo "wrote data/screenshots/room.png"

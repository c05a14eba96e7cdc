#!/usr/bin/python3
"""Walks the AT-SPI tree of the application named argv[1] and prints one
line per interactive element: role, name and description if any (tab
separated); with argv[2], also each line of the text of every element so
named, as "line<tab>text". It fails
(exit 1) with a list of the culprits when an interactive element that is
visible has no name, a name that is a GTK class ("GtkButton"), or a name
with a mnemonic underscore ("_Leave Leave").

ATSPI_DUMP=1 also prints every node, interactive or not, to stderr.
Run by tests/a11y.rs on a private session bus; the GTK window must keep its
main loop running meanwhile, since every query here is answered by it."""

import os
import re
import sys

import pyatspi

INTERACTIVE = {
    pyatspi.ROLE_PUSH_BUTTON,
    pyatspi.ROLE_TOGGLE_BUTTON,
    pyatspi.ROLE_CHECK_BOX,
    pyatspi.ROLE_RADIO_BUTTON,
    pyatspi.ROLE_COMBO_BOX,
    pyatspi.ROLE_ENTRY,
    pyatspi.ROLE_PASSWORD_TEXT,
    pyatspi.ROLE_SPIN_BUTTON,
    pyatspi.ROLE_LINK,
    pyatspi.ROLE_MENU_ITEM,
    pyatspi.ROLE_SLIDER,
    pyatspi.ROLE_TEXT,
    pyatspi.ROLE_LIST,
    pyatspi.ROLE_LIST_BOX,
    pyatspi.ROLE_LIST_ITEM,
    pyatspi.ROLE_TABLE,
    pyatspi.ROLE_TREE_TABLE,
}
# A name that is really a class name, or still carries the mnemonic mark.
CLASS_NAME = re.compile(r"^(Gtk|Adw|TcpChat)[A-Z]\w*$")
MNEMONIC = re.compile(r"(^|\s)_\w")


def find_app(name):
    desktop = pyatspi.Registry.getDesktop(0)
    for app in desktop:
        if app is not None and app.name == name:
            return app
    return None


def libadwaita_peek_button(node, name):
    """libadwaita 1.2's show-password button inside an AdwPasswordEntryRow:
    an internal image we cannot name (later libadwaita names it). Allowed
    only there: within the row, whose role is text."""
    if name != "GtkImage":
        return False
    row = node.parent
    for _ in range(4):
        if row is None:
            return False
        if row.getRole() == pyatspi.ROLE_TEXT and "Password" in (row.name or ""):
            return True
        row = row.parent
    return False


def walk(node, seen=None):
    """Every node under `node` once (GTK 4.8 may list a node in two places,
    such as a closed popover's content)."""
    seen = set() if seen is None else seen
    if node is None or node in seen:
        return
    seen.add(node)
    yield node
    for child in node:
        yield from walk(child, seen)


def main():
    app = find_app(sys.argv[1])
    if app is None:
        names = [a.name for a in pyatspi.Registry.getDesktop(0) if a is not None]
        print(f"no application {sys.argv[1]!r} on the AT-SPI bus: {names}")
        return 2
    bad = []
    for node in walk(app):
        try:
            role = node.getRole()
            states = node.getState()
        except Exception:  # a node gone while we looked
            continue
        if os.environ.get("ATSPI_DUMP"):  # every node, for looking by hand
            state_names = [pyatspi.stateToString(s) for s in states.getStates()]
            print(node.getRoleName(), repr(node.name), state_names, file=sys.stderr)
        # GTK 4.8 sets no "showing" state: "visible" is the widget's own flag,
        # so controls of hidden stack pages are checked too (they will show).
        if role not in INTERACTIVE or not states.contains(pyatspi.STATE_VISIBLE):
            continue
        name = node.name or ""
        description = node.description or ""
        print(f"{node.getRoleName()}\t{name}" + (f"\t{description}" if description else ""))
        if libadwaita_peek_button(node, name):
            continue
        if not name.strip() or CLASS_NAME.match(name) or MNEMONIC.search(name):
            bad.append(f"{node.getRoleName()} named {name!r}")
    if len(sys.argv) > 2:
        for node in walk(app):
            if node.name == sys.argv[2]:
                # Text only: asked for the log's text attributes, GTK 4.8
                # reads a tag's write-only "foreground" (a GObject warning)
                # and the window died in our runs.
                text = node.queryText()
                for line in text.getText(0, text.characterCount).splitlines():
                    print(f"line\t{line}")
    if bad:
        print("\n".join(["UNNAMED:"] + bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

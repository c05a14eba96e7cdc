# TCP Chat — build, run, test. `make run` and `make test` first install the
# Debian/Ubuntu packages they need (with sudo when not root).

PREFIX ?= /usr/local
DESTDIR ?=
CARGO ?= cargo

# Packages to build the app, and the extra ones the test suite drives.
BUILD_PACKAGES := build-essential pkg-config libgtk-4-dev libadwaita-1-dev libglib2.0-bin libsqlite3-dev gettext ca-certificates
TEST_PACKAGES := xvfb xauth xdotool imagemagick ngircd inspircd ii irssi weechat-headless openssl \
	desktop-file-utils appstream gtk-update-icon-cache dbus-x11 dbus-daemon libgtk-4-bin librsvg2-bin \
	iproute2 at-spi2-core python3-pyatspi
BENCH_PACKAGES := ngircd inspircd xvfb xauth

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all build run test check bench deps-build deps-test deps-bench install uninstall deb check-packaging clean pot translations

all: build

# Installs only what dpkg says is missing, so a second run costs nothing.
define install_missing
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing missing packages:" $$missing; \
		$(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends $$missing; \
	fi
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust (https://rustup.rs), then run make again." >&2; exit 1; }
endef

deps-build:
	$(call install_missing,$(BUILD_PACKAGES))

deps-test:
	$(call install_missing,$(BUILD_PACKAGES) $(TEST_PACKAGES))

deps-bench:
	$(call install_missing,$(BUILD_PACKAGES) $(BENCH_PACKAGES))

# Cargo's build directory: CARGO_TARGET_DIR when set, as cargo itself does.
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)

build: deps-build
	$(CARGO) build --release
	$(MAKE) --no-print-directory translations

run: build
	$(CARGO) run --release --

# The whole suite: formatting, lints, unit + integration + GUI tests (under Xvfb).
test: deps-test
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
	xvfb-run -a -s "-screen 0 1280x800x24" $(CARGO) test
	tests/i18n.sh
	tests/packaging.sh all

clean:
	$(CARGO) clean

# ---- Desktop integration: install, uninstall, deb, check-packaging ----
# `make install` (PREFIX=/usr/local), `make install PREFIX=$HOME/.local` for one user,
# `make install DESTDIR=/stage PREFIX=/usr` for packagers. The caches are refreshed only
# when installing for real (no DESTDIR), as meson does.

APP_ID := io.github.tcpchat.TcpChat
BINARY := $(TARGET_DIR)/release/tcp-chat
SHARE_DIR = $(DESTDIR)$(PREFIX)/share
ICON_THEME_DIR = $(SHARE_DIR)/icons/hicolor
SCHEMA_DIR = $(SHARE_DIR)/glib-2.0/schemas
GSCHEMAS := $(wildcard data/*.gschema.xml)
DEB_STAGE := target/deb-stage

# ---- Translations: po/*.po merged into what is installed ----
# The catalogues, and the desktop entry and metainfo with every language of po/LINGUAS
# merged in, are generated into the build tree, never committed.
LINGUAS := $(shell sed 's/\#.*//' po/LINGUAS)
PO_FILES := $(foreach lang,$(LINGUAS),po/$(lang).po)
I18N_DIR := $(TARGET_DIR)/i18n
DESKTOP_OUT := $(I18N_DIR)/$(APP_ID).desktop
METAINFO_OUT := $(I18N_DIR)/$(APP_ID).metainfo.xml
mo_file = $(I18N_DIR)/locale/$(1)/LC_MESSAGES/tcp-chat.mo
TRANSLATED := $(DESKTOP_OUT) $(METAINFO_OUT) $(foreach lang,$(LINGUAS),$(call mo_file,$(lang)))

translations: $(TRANSLATED)

$(DESKTOP_OUT): data/$(APP_ID).desktop $(PO_FILES) po/LINGUAS
	@mkdir -p $(@D)
	msgfmt --desktop --template=$< -d po -o $@

$(METAINFO_OUT): data/$(APP_ID).metainfo.xml $(PO_FILES) po/LINGUAS
	@mkdir -p $(@D)
	msgfmt --xml --template=$< -d po -o $@

$(I18N_DIR)/locale/%/LC_MESSAGES/tcp-chat.mo: po/%.po
	@mkdir -p $(@D)
	msgfmt --check -o $@ $<

# Every data file, as source:directory-under-share. The only list: install, uninstall and
# the .deb (staged through install) all read it.
DATA_FILES := \
	$(DESKTOP_OUT):applications \
	$(METAINFO_OUT):metainfo \
	$(foreach lang,$(LINGUAS),$(call mo_file,$(lang)):locale/$(lang)/LC_MESSAGES) \
	data/icons/hicolor/scalable/apps/$(APP_ID).svg:icons/hicolor/scalable/apps \
	data/icons/hicolor/symbolic/apps/$(APP_ID)-symbolic.svg:icons/hicolor/symbolic/apps \
	$(foreach schema,$(GSCHEMAS),$(schema):glib-2.0/schemas)

# Lets one foreach write one recipe line per file (make runs and echoes each on its own).
define newline


endef

data_source = $(word 1,$(subst :, ,$(1)))
data_target = $(SHARE_DIR)/$(word 2,$(subst :, ,$(1)))/$(notdir $(call data_source,$(1)))
INSTALLED_FILES = $(DESTDIR)$(PREFIX)/bin/tcp-chat $(foreach f,$(DATA_FILES),$(call data_target,$(f)))

# Rebuilt only when a source changed, so `sudo make install` after `make build` does not
# need cargo in root's PATH. resources/ holds what build.rs compiles into the binary.
# Cargo runs without make's variables: jemalloc's build script runs `make install` into
# its own build directory, and a DESTDIR given to `make install` here would reach it.
$(BINARY): Cargo.toml Cargo.lock $(shell find src resources data/icons -type f 2>/dev/null) $(wildcard build.rs)
	env -u DESTDIR -u MAKEFLAGS -u MFLAGS $(CARGO) build --release
	touch $@

# Each tool may be missing (a minimal system): skipping it only leaves a cache stale.
define refresh_caches
	@if [ -z "$(DESTDIR)" ]; then \
		if command -v gtk-update-icon-cache >/dev/null && [ -d '$(ICON_THEME_DIR)' ]; then \
			gtk-update-icon-cache -qtf '$(ICON_THEME_DIR)'; fi; \
		if command -v update-desktop-database >/dev/null && [ -d '$(SHARE_DIR)/applications' ]; then \
			update-desktop-database -q '$(SHARE_DIR)/applications'; fi; \
		if [ -n '$(GSCHEMAS)' ] && command -v glib-compile-schemas >/dev/null && [ -d '$(SCHEMA_DIR)' ]; then \
			glib-compile-schemas '$(SCHEMA_DIR)'; fi; \
	fi
endef

install: $(BINARY) $(TRANSLATED)
	install -Dm755 $(BINARY) '$(DESTDIR)$(PREFIX)/bin/tcp-chat'
	$(foreach f,$(DATA_FILES),install -Dm644 $(call data_source,$(f)) '$(call data_target,$(f))'$(newline))
	$(refresh_caches)

uninstall:
	rm -f $(foreach file,$(INSTALLED_FILES),'$(file)')
	$(refresh_caches)

deb: $(BINARY) $(TRANSLATED)
	@$(CARGO) deb --version >/dev/null 2>&1 || $(CARGO) install cargo-deb --locked
	rm -rf $(DEB_STAGE)
	$(MAKE) --no-print-directory install DESTDIR=$(CURDIR)/$(DEB_STAGE) PREFIX=/usr
	$(CARGO) deb --no-build

# Validates the desktop entry and metainfo, install/uninstall, the .deb, and a launch of
# the installed entry under Xvfb.
check-packaging: deps-test
	tests/packaging.sh

# Relay benchmarks against ngircd and InspIRCd (our host with and without
# history), the history store and host on 1,000,000 stored lines, and the GUI
# ingest bench. 10,000 clients need as many file descriptors on each side.
# Results: stdout and target/bench-report.md.
bench: deps-bench
	ulimit -n 20000 2>/dev/null || ulimit -n $$(ulimit -Hn); \
	$(CARGO) build --release && \
	$(CARGO) bench --bench relay && \
	$(CARGO) bench --bench history | tee target/bench-history.txt && \
	{ printf '\n## Room history (1,000,000 stored lines)\n\n'; sed 's/^/    /' target/bench-history.txt; } >> target/bench-report.md && \
	if [ -e benches/gui_ingest.rs ] || [ -d benches/gui_ingest ]; then \
		xvfb-run -a -s "-screen 0 1280x800x24" $(CARGO) bench --bench gui_ingest | tee target/bench-gui.txt && \
		{ printf '\n## GUI ingest (window under Xvfb, release build)\n\n'; sed 's/^/    /' target/bench-gui.txt; } >> target/bench-report.md; \
	fi

# Translation template: every user-visible string (Rust strings marked with
# gettext()/gettext_f()/ngettext_f(), the translatable .ui properties, the desktop entry
# and the metainfo). The Rust files are read with xgettext's C parser, close enough for
# string literals. Locations name files, not lines, so the template only goes stale when a
# string changes (tests/i18n.sh checks it). `make pot POT=elsewhere.pot` writes elsewhere.
POT ?= po/tcp-chat.pot
POT_PARTS := $(TARGET_DIR)/po
pot:
	@mkdir -p $(POT_PARTS) $(dir $(POT))
	xgettext --from-code=UTF-8 --language=C --keyword=gettext --keyword=gettext_f \
		--keyword=ngettext_f:1,2 --add-location=file --package-name=tcp-chat \
		-o $(POT_PARTS)/rust.pot $$(grep '\.rs$$' po/POTFILES) 2>/dev/null
	xgettext --from-code=UTF-8 --add-location=file -o $(POT_PARTS)/ui.pot $$(grep '\.ui$$' po/POTFILES)
	xgettext --from-code=UTF-8 --add-location=file --language=Desktop \
		-o $(POT_PARTS)/desktop.pot data/$(APP_ID).desktop
	xgettext --from-code=UTF-8 --add-location=file -o $(POT_PARTS)/metainfo.pot data/$(APP_ID).metainfo.xml
	msgcat --use-first --add-location=file $(POT_PARTS)/rust.pot $(POT_PARTS)/ui.pot \
		$(POT_PARTS)/desktop.pot $(POT_PARTS)/metainfo.pot -o $(POT)
	@echo "$(POT): $$(grep -c '^msgid ' $(POT)) strings"

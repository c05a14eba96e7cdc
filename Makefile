# TCP Chat — build, run, test. `make run` and `make test` first install the
# Debian/Ubuntu packages they need (with sudo when not root).

PREFIX ?= /usr/local
DESTDIR ?=
CARGO ?= cargo

# Packages to build the app, and the extra ones the test suite drives.
BUILD_PACKAGES := build-essential pkg-config libgtk-4-dev libadwaita-1-dev libglib2.0-bin
TEST_PACKAGES := xvfb xauth xdotool imagemagick ngircd inspircd ii irssi weechat-headless \
	desktop-file-utils appstream gtk-update-icon-cache dbus-x11
BENCH_PACKAGES := ngircd inspircd xvfb xauth

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all build run test check bench deps-build deps-test deps-bench install uninstall deb clean

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

build: deps-build
	$(CARGO) build --release

run: build
	$(CARGO) run --release --

# The whole suite: formatting, lints, unit + integration + GUI tests (under Xvfb).
test: deps-test
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
	xvfb-run -a -s "-screen 0 1280x800x24" $(CARGO) test --all-targets -- --test-threads=2

clean:
	$(CARGO) clean

# Relay benchmarks against ngircd and InspIRCd (and the GUI ingest bench when
# it exists). 10,000 clients need as many file descriptors on each side.
# Results: stdout and target/bench-report.md.
bench: deps-bench
	ulimit -n 20000 2>/dev/null || ulimit -n $$(ulimit -Hn); \
	$(CARGO) build --release && \
	$(CARGO) bench --bench relay && \
	if [ -e benches/gui_ingest.rs ] || [ -d benches/gui_ingest ]; then \
		xvfb-run -a -s "-screen 0 1280x800x24" $(CARGO) bench --bench gui_ingest; \
	fi

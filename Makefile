# Satchel: the two commands are `make run` and `make test`. Both set up whatever is missing
# first (Debian packages, pinned Go tools); a second run installs nothing.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Heavy tools built from source live outside the repo, keyed by their pinned version, so only a
# fresh machine pays for them.
TOOLS_DIR   ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/satchel/tools
BUF_VERSION := v1.75.0
BUF         := $(TOOLS_DIR)/buf-$(BUF_VERSION)/buf
# A real S3-compatible server for the blob store's tests.
VERSITYGW_VERSION := v1.8.0
VERSITYGW         := $(TOOLS_DIR)/versitygw-$(VERSITYGW_VERSION)/versitygw
# A real Lightning regtest network (btcd and two LND nodes) for the Lightning tests.
BTCD_VERSION := v0.24.2
BTCD         := $(TOOLS_DIR)/btcd-$(BTCD_VERSION)/btcd
LND_VERSION  := v0.21.2-beta
LND          := $(TOOLS_DIR)/lnd-$(LND_VERSION)/lnd
# The Wails CLI that builds the launcher window (v2.16.0: older ones do not build with Go 1.26).
WAILS_VERSION := v2.16.0
WAILS         := $(TOOLS_DIR)/wails-$(WAILS_VERSION)/wails
# Tests find the tools here.
export SATCHEL_TOOLS_DIR := $(TOOLS_DIR)

# Debian 12 packages: PostgreSQL 15 (the private cluster, pgbench), wrk and curl (make bench),
# a Secret Service for the launcher's keyring (D-Bus, gnome-keyring); for the launcher window:
# the C toolchain, GTK 3 and WebKitGTK 4.1 it is built with, and for its tests an X server
# (Xvfb), ImageMagick's `import` (screenshots), chromium (Playwright) and an emoji font.
APT_PACKAGES := postgresql-15 postgresql-client-15 wrk curl jq unzip \
	dbus dbus-user-session dbus-x11 gnome-keyring libsecret-tools \
	build-essential pkg-config libgtk-3-dev libwebkit2gtk-4.1-dev \
	xvfb xauth x11-apps imagemagick chromium fonts-noto-color-emoji

GO_PACKAGES := ./backend/... ./shared/... ./desktop/...
BIN         := .data/bin
SUDO        := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

# The launcher window (desktop/, a Wails project) and its frontend (desktop/frontend).
FRONTEND := desktop/frontend
LAUNCHER := desktop/build/bin/satchel-launcher
# The launcher `make run` and `make launcher` open: on the local backend, with its files under
# .data/launcher so the player's own launcher data is never touched.
LAUNCHER_ENV := SATCHEL_SERVER=http://127.0.0.1:8080 SATCHEL_DATA_DIR=$(CURDIR)/.data/launcher/data \
	SATCHEL_CONFIG_DIR=$(CURDIR)/.data/launcher/config
HAS_DISPLAY := [ -n "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]

.PHONY: help setup setup-apt setup-tools generate check-generated lint test run regtest bench build \
	setup-launcher launcher-build launcher test-launcher bench-launcher

help:
	@echo "make run        set up, start satchel-server with the demo catalog on http://127.0.0.1:8080"
	@echo "make test       set up, then run every check and test (what CI runs)"
	@echo "make generate   regenerate the API code under shared/api from proto/"
	@echo "make lint       gofmt, go vet, buf lint, buf breaking against main"
	@echo "make regtest    run the server against a local regtest Lightning network (real LND, fake coins)"
	@echo "make bench      load-test GetGame and ListGames beside pgbench; the launcher window's start and memory"
	@echo "make launcher   build the launcher window and open it on the local backend (make run starts both)"
	@echo "make test-launcher  the window's component, end-to-end and screenshot tests (part of make test)"

setup: setup-apt setup-tools

# Installs only the packages that are missing, so a second run does nothing.
setup-apt:
	@missing=$$(for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq; \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

setup-tools: $(BUF) $(VERSITYGW) $(BTCD) $(LND)

setup-launcher: setup-apt $(WAILS) $(FRONTEND)/node_modules/.installed

$(WAILS):
	@echo "building the Wails CLI $(WAILS_VERSION) into $(dir $@) (once per machine)"
	@mkdir -p $(dir $@)
	cd /tmp && GOBIN=$(dir $@) GOFLAGS=-mod=mod go install github.com/wailsapp/wails/v2/cmd/wails@$(WAILS_VERSION)

# The frontend's npm packages, installed again only when package.json or the lockfile change.
# (npm install, not npm ci: npm 11's lockfiles make npm ci fail on rollup's optional packages.)
$(FRONTEND)/node_modules/.installed: $(FRONTEND)/package.json $(FRONTEND)/package-lock.json
	cd $(FRONTEND) && npm install --no-audit --no-fund
	@touch $@

$(BUF):
	@echo "building buf $(BUF_VERSION) into $(dir $@) (once per machine, about 2 minutes)"
	@mkdir -p $(dir $@)
	cd /tmp && GOBIN=$(dir $@) GOFLAGS=-mod=mod go install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)

$(VERSITYGW):
	@echo "building versitygw $(VERSITYGW_VERSION) into $(dir $@) (once per machine)"
	@mkdir -p $(dir $@)
	cd /tmp && GOBIN=$(dir $@) GOFLAGS=-mod=mod go install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

$(BTCD):
	@echo "building btcd $(BTCD_VERSION) into $(dir $@) (once per machine)"
	@mkdir -p $(dir $@)
	cd /tmp && GOBIN=$(dir $@) GOFLAGS=-mod=mod go install github.com/btcsuite/btcd@$(BTCD_VERSION) github.com/btcsuite/btcd/cmd/btcctl@$(BTCD_VERSION)

# lnd's go.mod has replace directives, so `go install` refuses it: build from its module source.
$(LND):
	@echo "building lnd $(LND_VERSION) into $(dir $@) (once per machine, about 7 minutes)"
	@mkdir -p $(dir $@)
	src=$$(cd /tmp && GOFLAGS=-mod=mod go mod download -json github.com/lightningnetwork/lnd@$(LND_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	work=$$(mktemp -d); cp -r "$$src/." "$$work/"; chmod -R u+w "$$work"; \
	cd "$$work" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
		-tags="signrpc walletrpc chainrpc invoicesrpc routerrpc peersrpc" -o $(dir $@) ./cmd/lnd ./cmd/lncli; \
	rm -rf "$$work"

build: setup
	go build -o $(BIN)/ ./backend/cmd/...

# The launcher window, built as players get it: Go bindings, frontend, then the binary.
launcher-build: setup-launcher
	cd desktop && $(WAILS) build -m -nosyncgomod -trimpath -nocolour

# Opens the launcher window on the local backend (start it with `make run`).
launcher: launcher-build
	@$(HAS_DISPLAY) || { echo "no display: \$$DISPLAY and \$$WAYLAND_DISPLAY are unset; run make launcher in a desktop session"; exit 1; }
	$(LAUNCHER_ENV) $(LAUNCHER)

generate: setup-tools
	$(BUF) generate --template proto/buf.gen.yaml

# The committed generated code must be what the protos generate.
check-generated: generate
	@if [ -n "$$(git status --porcelain -- shared/api)" ]; then \
		git status --short -- shared/api; \
		echo "shared/api is not what proto/ generates: run make generate and commit the result"; exit 1; \
	fi

lint: setup-tools
	@bad=$$(gofmt -l backend shared desktop); if [ -n "$$bad" ]; then echo "gofmt would change:" $$bad; exit 1; fi
	go vet $(GO_PACKAGES)
	$(BUF) lint
	@if git rev-parse -q --verify main >/dev/null && git cat-file -e main:proto 2>/dev/null; then \
		echo "buf breaking --against main"; $(BUF) breaking --against '.git#branch=main'; \
	else echo "buf breaking: main has no proto/ yet, nothing to compare"; fi

# The money paths and the installer run under the race detector, and only there: running them
# a second time without it would add their minutes again for nothing.
RACE_PACKAGES := ./backend/purchases ./backend/payouts ./backend/postgres ./backend/rpc \
	./desktop/install ./desktop/state ./desktop/library

test: setup check-generated lint
	go test -count=1 $$(go list $(GO_PACKAGES) | grep -vxF "$$(go list $(RACE_PACKAGES))")
	go test -race -count=1 $(RACE_PACKAGES)
	@$(MAKE) --no-print-directory test-launcher

# The launcher window: TypeScript (strict) and the component tests (vitest, bindings mocked),
# the committed bindings checked against the Go code, then the end-to-end test (`wails dev`
# driven by Playwright in Debian's chromium, on the real server and keyring) and the
# screenshots of the built app (docs/screenshots/), both on Xvfb.
test-launcher: setup-launcher
	cd $(FRONTEND) && npm run typecheck && npm test
	$(MAKE) --no-print-directory launcher-build
	@if git ls-files --error-unmatch $(FRONTEND)/wailsjs >/dev/null 2>&1 && \
		[ -n "$$(git status --porcelain -- $(FRONTEND)/wailsjs)" ]; then \
		git status --short -- $(FRONTEND)/wailsjs; \
		echo "$(FRONTEND)/wailsjs is not what the Go bindings generate: commit what make launcher-build wrote"; exit 1; \
	fi
	go vet -tags e2e ./desktop/app/
	SATCHEL_LAUNCHER_BIN=$(CURDIR)/$(LAUNCHER) go test -tags e2e -count=1 -run '^(TestWindowEndToEnd|TestScreenshots)$$' -v ./desktop/app/

# The server, then (with a display) the launcher window on it; without a display, the server
# alone. Ctrl-C stops both.
run: build
	@if $(HAS_DISPLAY); then $(MAKE) --no-print-directory launcher-build; fi
	@rm -f .data/server.out; launcher=; \
	$(BIN)/satchel-server serve --demo > >(tee .data/server.out) & server=$$!; \
	trap 'kill -TERM $$server $$launcher 2>/dev/null' TERM; \
	until grep -q 'is serving on' .data/server.out 2>/dev/null; do \
		kill -0 $$server 2>/dev/null || { wait $$server; exit $$?; }; sleep 0.2; \
	done; \
	if $(HAS_DISPLAY); then \
		echo "opening the launcher window (its files: .data/launcher, its log: .data/launcher.log)"; \
		$(LAUNCHER_ENV) $(LAUNCHER) > .data/launcher.log 2>&1 & launcher=$$!; \
	else \
		echo "no display (\$$DISPLAY and \$$WAYLAND_DISPLAY are unset): serving the backend only; start the launcher later, in a desktop session, with make launcher"; \
	fi; \
	wait $$server; code=$$?; \
	[ -z "$$launcher" ] || kill $$launcher 2>/dev/null || true; \
	exit $$code

regtest: build
	$(BIN)/satchel-regtest

bench: build
	$(BIN)/satchel-bench
	@echo; echo "payouts: settlement to payout SENT beside a direct payment on the regtest network"
	go run ./backend/payouts/internal/payoutbench -n 300
	@echo; echo "install of a 1 GiB build beside curl, sha256sum and unzip"
	go run ./desktop/cmd/satchel-installbench
	@$(MAKE) --no-print-directory bench-launcher

# The launcher window's cold start to an interactive store and its idle memory, beside the bare
# Wails react-ts template built the same way in the same run (desktop/app/figures_e2e_test.go).
bench-launcher: launcher-build
	SATCHEL_LAUNCHER_BIN=$(CURDIR)/$(LAUNCHER) go test -tags e2e -count=1 -run '^$$' -bench BenchmarkWindow -benchtime 1x ./desktop/app/

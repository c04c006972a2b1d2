# Satchel: the two commands are `make run` and `make test`. Each sets up what it needs and is
# missing first: `make run` only the Debian packages, the server and the launcher; the tools only
# tests use (buf, versitygw, btcd, lnd) are built by the targets that use them. A second run
# installs and rebuilds nothing.

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

# Debian 12 packages running needs: PostgreSQL 15 (the private cluster, pgbench), curl and jq
# (the README's examples), a Secret Service for the launcher's keyring (D-Bus, gnome-keyring),
# and the C toolchain, GTK 3 and WebKitGTK 4.1 the launcher window is built with.
APT_PACKAGES := postgresql-15 postgresql-client-15 curl jq \
	dbus dbus-user-session dbus-x11 gnome-keyring \
	build-essential pkg-config libgtk-3-dev libwebkit2gtk-4.1-dev
# Only tests and benchmarks need these: wrk and unzip (make bench), secret-tool, and for the
# window's tests an X server (Xvfb), ImageMagick's `import` (screenshots), chromium
# (Playwright) and an emoji font.
APT_TEST_PACKAGES := wrk unzip libsecret-tools \
	xvfb xauth x11-apps xdotool imagemagick chromium fonts-noto-color-emoji

GO_PACKAGES := ./backend/... ./shared/... ./desktop/...
BIN         := .data/bin
SUDO        := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

# The launcher window (desktop/, a Wails project) and its frontend (desktop/frontend).
FRONTEND := desktop/frontend
# The stamp of the frontend's npm install is named after the content of package.json and the
# lockfile, not their times: every npm install (wails build runs one too) rewrites the lockfile.
NPM_INSTALLED := $(FRONTEND)/node_modules/.installed-$(shell cat $(FRONTEND)/package.json \
	$(FRONTEND)/package-lock.json | sha256sum | cut -c1-16)
LAUNCHER := desktop/build/bin/satchel-launcher
# The launcher `make run` and `make launcher` open: on the local backend, with its files under
# .data/launcher so the player's own launcher data is never touched.
LAUNCHER_ENV := SATCHEL_SERVER=http://127.0.0.1:8080 SATCHEL_DATA_DIR=$(CURDIR)/.data/launcher/data \
	SATCHEL_CONFIG_DIR=$(CURDIR)/.data/launcher/config SATCHEL_STATE_DIR=$(CURDIR)/.data/launcher/state
HAS_DISPLAY := [ -n "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]

.PHONY: help setup setup-apt setup-apt-test setup-tools generate check-generated check-modules lint \
	test test-bolt11-diff run regtest bench soak build server-build \
	setup-launcher launcher-build launcher test-launcher bench-launcher cross-vet setup-dist dist

help:
	@echo "make run        set up what running needs, serve the demo catalog on http://127.0.0.1:8080 and open the launcher"
	@echo "make test       set up, then run every check and test (what CI runs)"
	@echo "make setup      install and build everything every target needs, once"
	@echo "make generate   regenerate the API code under shared/api from proto/"
	@echo "make lint       gofmt, go vet, buf lint, buf breaking against main"
	@echo "make regtest    run the server against a local regtest Lightning network (real LND, fake coins)"
	@echo "make bench      load-test GetGame and ListGames beside pgbench; the launcher window's start and memory"
	@echo "make soak       the whole store for 10 minutes under load while its parts fail, then its checks (SOAK_FLAGS=-h)"
	@echo "make launcher   build the launcher window and open it on the local backend (make run starts both)"
	@echo "make test-launcher  the window's component, end-to-end and screenshot tests (part of make test)"
	@echo "make dist       the release artifacts into dist/: server and its image, the CLI for every platform, the window's packages"

# Everything every target needs.
setup: setup-apt setup-apt-test setup-tools

# apt-install installs the packages of $(1) that are missing, so a second run does nothing.
define apt-install
	@missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed$$' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq; \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

setup-apt:
	$(call apt-install,$(APT_PACKAGES))

setup-apt-test:
	$(call apt-install,$(APT_TEST_PACKAGES))

# The tools only tests use.
setup-tools: $(BUF) $(VERSITYGW) $(BTCD) $(LND)

setup-launcher: setup-apt $(WAILS) $(NPM_INSTALLED)

$(WAILS):
	@echo "building the Wails CLI $(WAILS_VERSION) into $(dir $@) (once per machine)"
	@mkdir -p $(dir $@)
	cd /tmp && GOBIN=$(dir $@) GOFLAGS=-mod=mod go install github.com/wailsapp/wails/v2/cmd/wails@$(WAILS_VERSION)

# The frontend's npm packages, installed again only when the content of package.json or the
# lockfile changes. (npm install, not npm ci: npm 11's lockfiles make npm ci fail on rollup's
# optional packages.)
$(NPM_INSTALLED):
	cd $(FRONTEND) && npm install --no-audit --no-fund
	@rm -f $(FRONTEND)/node_modules/.installed*; touch $@

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

# Go's build cache makes a second build with nothing changed a no-op (no compile, no link).
build:
	go build -o $(BIN)/ ./backend/cmd/...

# What make run starts: the server and the demo game its demo builds carry.
server-build:
	go build -o $(BIN)/ ./backend/cmd/satchel-server ./backend/cmd/satchel-demo-game

# What the launcher binary is built from: its Go code and the shared module's, the frontend's
# sources and the committed bindings (so a hand edit of them is regenerated and caught).
LAUNCHER_SOURCES := go.work desktop/wails.json \
	$(shell find desktop shared \( -path desktop/build -o -path $(FRONTEND) -o -name testdata \) -prune -o \
		-type f \( -name '*.go' -o -name go.mod -o -name go.sum \) ! -name '*_test.go' -print) \
	$(shell find $(FRONTEND)/src $(FRONTEND)/wailsjs -type f ! -name '*.test.*') \
	$(wildcard $(addprefix $(FRONTEND)/,index.html tsconfig.json vite.config.ts))

# The launcher window, built as players get it: Go bindings, frontend, then the binary; again
# only when one of its sources changed.
launcher-build: $(LAUNCHER)

$(LAUNCHER): $(LAUNCHER_SOURCES) $(NPM_INSTALLED) | setup-launcher
	cd desktop && $(WAILS) build -m -nosyncgomod -trimpath -nocolour

# Opens the launcher window on the local backend (start it with `make run`).
launcher: launcher-build
	@$(HAS_DISPLAY) || { echo "no display: \$$DISPLAY and \$$WAYLAND_DISPLAY are unset; run make launcher in a desktop session"; exit 1; }
	$(LAUNCHER_ENV) $(LAUNCHER)

generate: $(BUF)
	$(BUF) generate --template proto/buf.gen.yaml

# The committed generated code must be what the protos generate.
check-generated: generate
	@if [ -n "$$(git status --porcelain -- shared/api)" ]; then \
		git status --short -- shared/api; \
		echo "shared/api is not what proto/ generates: run make generate and commit the result"; exit 1; \
	fi

lint: $(BUF)
	@bad=$$(gofmt -l backend shared desktop); if [ -n "$$bad" ]; then echo "gofmt would change:" $$bad; exit 1; fi
	go vet $(GO_PACKAGES)
	$(BUF) lint
	@big=$$(git ls-files -z | xargs -0 -r du -b 2>/dev/null | awk '$$1 > 1048576 { print $$2 }'); \
		if [ -n "$$big" ]; then echo "tracked files over 1 MiB (a build's output? remove them and git-ignore them):" $$big; exit 1; fi
	@if git rev-parse -q --verify main >/dev/null && git cat-file -e main:proto 2>/dev/null; then \
		echo "buf breaking --against main"; $(BUF) breaking --against '.git#branch=main'; \
	else echo "buf breaking: main has no proto/ yet, nothing to compare"; fi

# The money paths and the installer run under the race detector, and only there: running them
# a second time without it would add their minutes again for nothing.
RACE_PACKAGES := ./backend/purchases ./backend/payouts ./backend/postgres ./backend/rpc \
	./desktop/install ./desktop/state ./desktop/library

# Every module builds alone (GOWORK=off) with the versions the workspace builds it with: go work
# sync has nothing to raise in any go.mod.
check-modules:
	@mods=$$(go list -m -f '{{.GoMod}}'); before=$$(cat $$mods | sha256sum); go work sync; \
	if [ "$$(cat $$mods | sha256sum)" != "$$before" ]; then \
		echo "go work sync raised versions in a go.mod (now changed: see git diff): run GOWORK=off go mod tidy in that module"; exit 1; \
	fi

# bolt11 against lnd's zpay32 (a module of its own, kept out of go.work so lnd's dependencies
# stay out of the backend's): the seed corpus, then a bounded time of fuzzing each way. It
# replaces satchel.dev/backend with ../../..; -mod=mod lets its go.sum follow the backend's
# requirements as they change (commit what it adds).
BOLT11_DIFF := backend/lightning/bolt11/difftest
test-bolt11-diff: export GOWORK := off
test-bolt11-diff: export GOFLAGS := -mod=mod
test-bolt11-diff:
	cd $(BOLT11_DIFF) && go test -count=1 . && \
		go test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 15s . && \
		go test -run '^$$' -fuzz '^FuzzEncode$$' -fuzztime 5s .

# Every platform the launcher and the CLI ship for is built and vetted here; only Linux runs
# their tests (Windows test binaries do not start under Debian's wine). CGO_ENABLED=0: the core,
# the CLI and the server need no C. For Windows the window's own code is vetted too (Wails
# builds it in pure Go); on Linux `make test-launcher` builds it, and macOS's needs a Mac.
CROSS_TARGETS := linux/amd64 linux/arm64 windows/amd64 windows/arm64 darwin/amd64 darwin/arm64
cross-vet:
	@for t in $(CROSS_TARGETS); do \
		tags=; case $$t in windows/*) tags="-tags desktop,production";; esac; \
		echo "go vet $$tags ./shared/... ./desktop/... for $$t"; \
		GOOS=$${t%/*} GOARCH=$${t#*/} CGO_ENABLED=0 go vet $$tags ./shared/... ./desktop/...; \
	done
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go vet ./backend/...
	cd tools/satchel-image && GOWORK=off go vet ./... && GOWORK=off go test -count=1 ./...

# What only make dist needs: NSIS's makensis (the Windows installer), dpkg-deb and ImageMagick (the
# Linux package), the CA certificates (the server image). Not part of setup: make run and make
# test never need them.
setup-dist: setup-launcher
	$(call apt-install,nsis dpkg imagemagick ca-certificates)

# The release artifacts, reproducibly, into dist/ (git-ignored) with SHA256SUMS: tools/dist.sh
# says what, the README's "Download and install" who for.
dist: setup-dist
	WAILS=$(WAILS) tools/dist.sh

test: setup check-generated check-modules lint cross-vet
	go test -count=1 -timeout 30m $$(go list $(GO_PACKAGES) | grep -vxF "$$(go list $(RACE_PACKAGES))")
	go test -race -count=1 -timeout 30m $(RACE_PACKAGES)
	@$(MAKE) --no-print-directory test-bolt11-diff
	@$(MAKE) --no-print-directory soak SOAK_FLAGS="-duration 60s -hold-for 15s"
	@$(MAKE) --no-print-directory test-launcher

# The launcher window: TypeScript (strict) and the component tests (vitest, bindings mocked),
# the committed bindings checked against the Go code, then the end-to-end test (`wails dev`
# driven by Playwright in Debian's chromium, on the real server and keyring) and the
# screenshots of the built app (into .data/screenshots/, or SATCHEL_SCREENSHOTS_DIR), both on Xvfb.
test-launcher: setup-launcher setup-apt-test
	cd $(FRONTEND) && npm run typecheck && npm test
	$(MAKE) --no-print-directory launcher-build
	@if git ls-files --error-unmatch $(FRONTEND)/wailsjs >/dev/null 2>&1 && \
		[ -n "$$(git status --porcelain -- $(FRONTEND)/wailsjs)" ]; then \
		git status --short -- $(FRONTEND)/wailsjs; \
		echo "$(FRONTEND)/wailsjs is not what the Go bindings generate: commit what make launcher-build wrote"; exit 1; \
	fi
	go vet -tags e2e ./desktop/app/
	SATCHEL_LAUNCHER_BIN=$(CURDIR)/$(LAUNCHER) go test -tags e2e -count=1 -timeout 30m -run '^(TestWindowEndToEnd|TestScreenshots)$$' -v ./desktop/app/

# The server, then (with a display) the launcher window on it; without a display, the server
# alone. Ctrl-C stops both.
run: setup-apt server-build
	@if $(HAS_DISPLAY); then $(MAKE) --no-print-directory launcher-build; fi
	@rm -f .data/server.out; launcher=; \
	$(BIN)/satchel-server serve --demo > >(tee .data/server.out) & server=$$!; \
	trap 'kill -TERM $$server $$launcher 2>/dev/null' TERM; trap : INT; \
	until grep -q 'is serving on' .data/server.out 2>/dev/null; do \
		kill -0 $$server 2>/dev/null || { wait $$server; exit $$?; }; sleep 0.2; \
	done; \
	if $(HAS_DISPLAY); then \
		echo "opening the launcher window (its files: .data/launcher, its log: .data/launcher.log)"; \
		$(LAUNCHER_ENV) $(LAUNCHER) > .data/launcher.log 2>&1 & launcher=$$!; \
	else \
		echo "no display (\$$DISPLAY and \$$WAYLAND_DISPLAY are unset): serving the backend only; start the launcher later, in a desktop session, with make launcher"; \
	fi; \
	until wait $$server; code=$$?; ! kill -0 $$server 2>/dev/null; do :; done; \
	[ -z "$$launcher" ] || kill $$launcher 2>/dev/null || true; \
	exit $$code

regtest: setup-apt build $(BTCD) $(LND)
	$(BIN)/satchel-regtest

bench: setup-apt setup-apt-test build $(BTCD) $(LND)
	$(BIN)/satchel-bench
	@echo; echo "payouts: settlement to payout SENT beside a direct payment on the regtest network"
	go run ./backend/payouts/internal/payoutbench -n 300
	@echo; echo "install of a 1 GiB build beside curl, sha256sum and unzip"
	go run ./desktop/cmd/satchel-installbench
	@$(MAKE) --no-print-directory bench-launcher

# The soak (backend/cmd/satchel-soak): several servers on one database, real LND, S3 and relays
# under players, guests, developers and an admin while instances are killed and PostgreSQL, LND,
# S3, a relay and a launcher fail; then its checks. Its servers are built with -tags soak
# (loopback Lightning Addresses, retries within seconds: backend/server/soak.go).
SOAK_BIN   := $(BIN)/soak
SOAK_FLAGS ?=
soak: setup-apt $(BTCD) $(LND) $(VERSITYGW)
	go build -tags soak -o $(SOAK_BIN)/ ./backend/cmd/satchel-server ./backend/cmd/satchel-soak ./desktop/cmd/satchel
	$(SOAK_BIN)/satchel-soak $(SOAK_FLAGS)

# The launcher window's cold start to an interactive store and its idle memory, beside the bare
# Wails react-ts template built the same way in the same run (desktop/app/figures_e2e_test.go).
bench-launcher: launcher-build setup-apt-test
	SATCHEL_LAUNCHER_BIN=$(CURDIR)/$(LAUNCHER) go test -tags e2e -count=1 -run '^$$' -bench BenchmarkWindow -benchtime 1x ./desktop/app/

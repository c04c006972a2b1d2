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
# Tests find the tools here.
export SATCHEL_TOOLS_DIR := $(TOOLS_DIR)

# Debian 12 packages: PostgreSQL 15 (the private cluster, pgbench), wrk and curl (make bench),
# a Secret Service for the launcher's keyring (D-Bus, gnome-keyring).
APT_PACKAGES := postgresql-15 postgresql-client-15 wrk curl jq \
	dbus dbus-user-session dbus-x11 gnome-keyring libsecret-tools

GO_PACKAGES := ./backend/... ./shared/... ./desktop/...
BIN         := .data/bin
SUDO        := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: help setup setup-apt setup-tools generate check-generated lint test run regtest bench build

help:
	@echo "make run        set up, start satchel-server with the demo catalog on http://127.0.0.1:8080"
	@echo "make test       set up, then run every check and test (what CI runs)"
	@echo "make generate   regenerate the API code under shared/api from proto/"
	@echo "make lint       gofmt, go vet, buf lint, buf breaking against main"
	@echo "make regtest    run the server against a local regtest Lightning network (real LND, fake coins)"
	@echo "make bench      load-test GetGame and ListGames beside pgbench on the same cluster"

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

test: setup check-generated lint
	go test -count=1 $(GO_PACKAGES)

run: build
	$(BIN)/satchel-server serve --demo

regtest: build
	$(BIN)/satchel-regtest

bench: build
	$(BIN)/satchel-bench

# Framecast: `make run` starts the product, `make test` runs every test.
# Both install what is missing first (scripts/setup.sh, idempotent).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

MODULES   := desktop server shared
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GUI_TAGS  := desktop,production,webkit2_41
LDFLAGS   := -s -w -X framecast.dev/desktop/internal/cli.Version=$(VERSION) -X framecast.dev/server/internal/config.Version=$(VERSION)
ARTIFACTS := $(CURDIR)/artifacts
export FRAMECAST_ARTIFACTS ?= $(ARTIFACTS)

.PHONY: help setup frontend build build-server build-desktop run test test-go test-frontend lint bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: ## install missing Debian packages, npm packages and tools; start PostgreSQL
	@bash scripts/setup.sh

frontend: setup ## build the desktop UI into desktop/dist/ui
	cd frontend && npm run --silent build

build: build-server build-desktop ## build bin/framecast-server and bin/framecast

build-server: setup
	go build -trimpath -ldflags '$(LDFLAGS)' -o bin/framecast-server ./server/cmd/framecast-server

build-desktop: frontend
	go build -trimpath -tags $(GUI_TAGS) -ldflags '$(LDFLAGS)' -o bin/framecast ./desktop

run: build ## start the server on SQLite + ./data, and the desktop app when a display is present
	@bash scripts/run.sh

lint: setup ## go vet and gofmt over every module
	go vet ./desktop/... ./server/... ./shared/...
	@bad=$$(gofmt -l $(MODULES)); if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi

test-frontend: setup
	cd frontend && npm run --silent typecheck && npm test --silent

test-go: frontend
	go test -count=1 -timeout 15m ./shared/... ./server/... ./desktop/...

test: lint test-frontend test-go ## set up, then run every test (Go, frontend, GUI under Xvfb)

bench: frontend ## run the benchmarks; figures go in docs/BENCHMARKS.md
	go test -run '^$$' -bench . -benchmem -count 1 ./shared/... ./server/... ./desktop/...

clean: ## remove build output (keeps ./data)
	rm -rf bin artifacts desktop/dist/ui

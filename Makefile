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
# Windows wants a numeric a.b.c.d version.
WIN_VERSION := $(shell echo '$(VERSION)' | grep -Eo '^v?[0-9]+\.[0-9]+\.[0-9]+' | tr -d v | sed 's/$$/.0/' || true)
ifeq ($(WIN_VERSION),)
WIN_VERSION := 0.0.0.0
endif
export FRAMECAST_ARTIFACTS ?= $(ARTIFACTS)

.PHONY: help setup frontend build build-server build-desktop build-windows run test test-go test-frontend lint bench clean

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

# Windows from Linux: mingw-w64 for cgo, go-winres for icon + manifest,
# makensis for the installer. The .syso only links into Windows builds.
WIN_ENV := CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc CXX=x86_64-w64-mingw32-g++
GOBIN   := $(shell go env GOPATH)/bin

build-windows: frontend ## cross-build bin/windows/framecast.exe and its NSIS installer
	mkdir -p bin/windows
	$(GOBIN)/go-winres simply --arch amd64 --out desktop/rsrc --icon build/windows/icon.ico --manifest gui \
		--product-name Framecast --file-description "Framecast screen recorder" \
		--product-version $(WIN_VERSION) --file-version $(WIN_VERSION) --original-filename framecast.exe
	$(WIN_ENV) go build -trimpath -tags desktop,production -ldflags '$(LDFLAGS) -H windowsgui' -o bin/windows/framecast.exe ./desktop
	cd build/windows && makensis -V2 -DVERSION=$(VERSION) installer.nsi
	@x86_64-w64-mingw32-objdump -p bin/windows/framecast.exe | awk '/DLL Name/ {print "imports", $$3}'

run: build ## start the server on SQLite + ./data, and the desktop app when a display is present
	@bash scripts/run.sh

lint: setup ## go vet and gofmt over every module
	go vet ./desktop/... ./server/... ./shared/...
	@# macOS cannot be built here (no SDK); what needs no cgo is checked for it.
	GOOS=darwin CGO_ENABLED=0 go vet ./desktop/...
	@bad=$$(gofmt -l $(MODULES)); if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi

test-frontend: setup
	cd frontend && npm run --silent typecheck && npm test --silent

test-go: frontend
	@# One package at a time: capture tests assert 1080p30 frame rates and A/V
	@# sync, which another package encoding video beside them would break.
	go build ./shared/... ./server/... ./desktop/...  # compile in parallel first
	go test -p 1 -count=1 -timeout 20m ./shared/... ./server/... ./desktop/...

test: lint test-frontend test-go build-windows ## set up, then run every test (Go, frontend, GUI under Xvfb) and check the Windows build

bench: frontend ## run the benchmarks; figures go in docs/BENCHMARKS.md
	go test -p 1 -run '^$$' -bench . -benchmem -count 1 ./shared/... ./server/... ./desktop/...
	@# Recording cost: Framecast vs ffmpeg x11grab + libx264, 60 s of 1080p30 each.
	go run ./desktop/cmd/recbench

clean: ## remove build output (keeps ./data)
	rm -rf bin artifacts desktop/dist/ui

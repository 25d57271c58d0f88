# The whole test suite: installs what the tests need (slapd) when missing,
# then checks formatting, vet, staticcheck (pinned by the tool directive in
# go.mod, never skipped), module tidiness, and runs every test (unit and
# integration) under the race detector. USERSYNC_REQUIRE_SLAPD=1 makes the
# LDAP tests fail, not skip, when slapd is missing.
GO ?= go

.PHONY: test deps lint unit bench demo

test: deps lint unit

deps:
	@bash scripts/test-deps.sh

lint:
	@echo "== gofmt"; out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "not gofmt-clean:"; echo "$$out"; exit 1; fi
	@echo "== go vet"; $(GO) vet ./...
	@echo "== staticcheck"; $(GO) tool staticcheck ./...
	@echo "== go mod tidy"; bak=$$(mktemp -d) || exit 1; trap 'rm -rf "$$bak"' EXIT; \
	  cp go.mod go.sum "$$bak"/; \
	  $(GO) mod tidy; if ! cmp -s go.mod "$$bak"/go.mod || ! cmp -s go.sum "$$bak"/go.sum; then \
	  echo "go mod tidy changed go.mod/go.sum"; cp "$$bak"/go.mod "$$bak"/go.sum .; exit 1; fi

unit:
	@echo "== go test -race ./..."; USERSYNC_REQUIRE_SLAPD=1 $(GO) test -race -count=1 -timeout 15m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

demo:
	$(GO) run ./cmd/usersync demo

# The whole test suite: installs what the tests need (slapd, staticcheck)
# when missing, then checks formatting, vet, staticcheck, module tidiness,
# and runs every test (unit and integration) under the race detector.
GO ?= go
STATICCHECK ?= $(shell command -v staticcheck 2>/dev/null || echo $(shell $(GO) env GOPATH)/bin/staticcheck)

.PHONY: test deps lint unit bench demo

test: deps lint unit

deps:
	@bash scripts/test-deps.sh

lint:
	@echo "== gofmt"; out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "not gofmt-clean:"; echo "$$out"; exit 1; fi
	@echo "== go vet"; $(GO) vet ./...
	@echo "== staticcheck"; if [ -x "$(STATICCHECK)" ]; then $(STATICCHECK) ./...; else echo "staticcheck not available, skipped"; fi
	@echo "== go mod tidy"; cp go.mod /tmp/usersync-go.mod.bak; cp go.sum /tmp/usersync-go.sum.bak; \
	  $(GO) mod tidy; if ! cmp -s go.mod /tmp/usersync-go.mod.bak || ! cmp -s go.sum /tmp/usersync-go.sum.bak; then \
	  echo "go mod tidy changed go.mod/go.sum"; cp /tmp/usersync-go.mod.bak go.mod; cp /tmp/usersync-go.sum.bak go.sum; exit 1; fi

unit:
	@echo "== go test -race ./..."; $(GO) test -race -count=1 -timeout 15m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

demo:
	$(GO) run ./cmd/usersync demo

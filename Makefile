# onramp — `make help` lists the targets.

SHELL := bash
CARGO ?= cargo
# Browser tests drive this binary; `make test` builds it first.
ONRAMP_BIN ?= $(CURDIR)/target/release/onramp

include mk/vendor.mk

.DEFAULT_GOAL := help
.PHONY: help run test test-deps check fmt clippy release unit

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

run: ## Build and serve http://localhost:8080 on ./onramp.db (prints the first admin password)
	$(CARGO) run --release -- serve

release: ## Build the release binary (target/release/onramp)
	$(CARGO) build --release --locked

# The browser with its recommends (fonts); the network tools without theirs: wireguard-tools
# recommends a kernel image for its module, which the tests never use (wireguard-go stands in).
test-deps: ## Install what the tests need (chromium, chromedriver, wg, wireguard-go, ip, ping) when run as root
	@browser=""; net=""; \
	command -v chromium >/dev/null 2>&1 || browser="$$browser chromium"; \
	command -v chromedriver >/dev/null 2>&1 || browser="$$browser chromium-driver"; \
	command -v wg >/dev/null 2>&1 || net="$$net wireguard-tools"; \
	command -v wireguard-go >/dev/null 2>&1 || net="$$net wireguard-go"; \
	command -v ip >/dev/null 2>&1 || net="$$net iproute2"; \
	command -v ping >/dev/null 2>&1 || net="$$net iputils-ping"; \
	missing="$$browser$$net"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing test dependencies:$$missing"; \
			apt-get update -qq || exit 1; \
			[ -z "$$browser" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$browser || exit 1; \
			[ -z "$$net" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$net || exit 1; \
		else \
			echo "The tests need:$$missing. Install them with:"; \
			echo "  sudo apt-get update && sudo apt-get install -y$$missing"; \
			exit 1; \
		fi; \
	fi

test: test-deps release ## Run every test: unit, integration, real SMTP, browser
	ONRAMP_BIN=$(ONRAMP_BIN) $(CARGO) test --locked --lib --bins --tests -- --test-threads=2

unit: ## Only the fast unit tests
	$(CARGO) test --locked --lib

fmt: ## Check formatting
	$(CARGO) fmt --all -- --check

clippy: ## Lint with warnings as errors
	$(CARGO) clippy --locked --all-targets -- -D warnings

check: fmt clippy vendor-check test ## Everything CI runs: fmt, clippy, pinned assets, tests

.PHONY: bench bench-deps
bench-deps:
	@command -v wrk >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk; \
		else echo "make bench needs wrk: sudo apt-get install -y wrk"; exit 1; fi; }

bench: bench-deps release ## Seed 100,000 users, load the release binary with wrk, print a table
	ONRAMP_BIN=$(ONRAMP_BIN) $(CARGO) bench --locked --bench load

.PHONY: faults
faults: release ## kill -9 under write load (20 rounds), a held write lock, SMTP outage, backup under load
	ONRAMP_BIN=$(ONRAMP_BIN) $(CARGO) bench --locked --bench faults

.PHONY: fuzz
FUZZ_SECONDS ?= 30
fuzz: ## Fuzz the body decoders, the key parser and the config renderer (FUZZ_SECONDS each)
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	@# cargo-fuzz passes nightly -Z flags; RUSTC_BOOTSTRAP lets the stable toolchain take them.
	for target in forms keys config; do \
		RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run --sanitizer none $$target -- -max_total_time=$(FUZZ_SECONDS) || exit 1; \
	done

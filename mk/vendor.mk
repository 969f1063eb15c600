# Vendored front-end dependencies. Included by the main Makefile; also usable alone:
#   make -f mk/vendor.mk vendor        refetch htmx from the npm registry and verify it
#   make -f mk/vendor.mk vendor-check  verify the committed copy (no network; for CI)
#
# To update htmx: change HTMX_VERSION, set the three hashes to the new values (run
# `npm pack htmx.org@<version>` in a scratch directory and `sha256sum` the tarball and the
# files inside it), run `make vendor`, then update assets/vendor/README.md.

# Paths are relative to this file, so the fragment works from any working directory.
VENDOR_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
VENDOR_DIR  := $(VENDOR_ROOT)/assets/vendor
# Test-only dependencies: embedded in the browser tests, never in the binary.
TEST_VENDOR_DIR := $(VENDOR_ROOT)/tests/browser/vendor

HTMX_VERSION        := 2.0.11
# SHA-256 of the npm tarball htmx.org-$(HTMX_VERSION).tgz.
HTMX_TGZ_SHA256     := 165a2655073e9e6e55e307a7c74e8ebcdb76afb7701f9c16cfd106a13add408e
# SHA-256 of package/dist/htmx.min.js and package/LICENSE inside it.
HTMX_MIN_SHA256     := d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717
HTMX_LICENSE_SHA256 := d3d2456f76414f2456104660ebd65aff1c04cd7966b942bdabd63f3cdb316a38

# qrcode-generator draws the QR code of a config holding a private key, in the browser, so
# the key never leaves it. MIT licence, stated in the file's own header.
QRCODE_VERSION    := 2.0.4
QRCODE_TGZ_SHA256 := 02e2e18a99a90b02dad940851f59b7c3c5fd1ab79cbdece8595cb06328878159
QRCODE_JS_SHA256  := 79ec86f82856005b1c887905cfccfcfbec3821ca61c7fd5a952faa5f778f791c

# axe-core checks every page of the browser tests for accessibility violations. MPL-2.0
# licence, copied beside it as axe.LICENSE.
AXE_VERSION        := 4.14.1
AXE_TGZ_SHA256     := e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745
AXE_MIN_SHA256     := 29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c
AXE_LICENSE_SHA256 := af175b9d96ee93c21a036152e1b905b0b95304d4ae8c2c921c7609100ba8df7e

.PHONY: vendor vendor-check vendor-qrcode vendor-axe

# `npm pack` downloads from whatever registry npm is configured to use; the pinned hash,
# not the registry, is what we trust. Files are written to a temporary name first so a
# failed run never leaves a half-updated assets/vendor/.
vendor: vendor-qrcode vendor-axe
vendor: ## Fetch htmx $(HTMX_VERSION) from npm, verify it, copy it into assets/vendor/
	@set -eu; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	tgz="htmx.org-$(HTMX_VERSION).tgz"; \
	( cd "$$tmp" && npm pack --ignore-scripts --silent "htmx.org@$(HTMX_VERSION)" >/dev/null ); \
	( cd "$$tmp" && echo "$(HTMX_TGZ_SHA256)  $$tgz" | sha256sum -c --strict - ); \
	tar -xzf "$$tmp/$$tgz" -C "$$tmp" package/dist/htmx.min.js package/LICENSE; \
	( cd "$$tmp/package" && printf '%s  %s\n' \
		"$(HTMX_MIN_SHA256)" dist/htmx.min.js \
		"$(HTMX_LICENSE_SHA256)" LICENSE | sha256sum -c --strict - ); \
	mkdir -p "$(VENDOR_DIR)"; \
	cp "$$tmp/package/dist/htmx.min.js" "$(VENDOR_DIR)/htmx.min.js.tmp"; \
	cp "$$tmp/package/LICENSE" "$(VENDOR_DIR)/htmx.LICENSE.tmp"; \
	mv "$(VENDOR_DIR)/htmx.min.js.tmp" "$(VENDOR_DIR)/htmx.min.js"; \
	mv "$(VENDOR_DIR)/htmx.LICENSE.tmp" "$(VENDOR_DIR)/htmx.LICENSE"; \
	echo "vendored htmx $(HTMX_VERSION) into $(VENDOR_DIR)"

vendor-check: ## Verify the committed assets/vendor/ files against the pinned hashes
	@cd "$(VENDOR_DIR)" && printf '%s  %s\n' \
		"$(HTMX_MIN_SHA256)" htmx.min.js \
		"$(HTMX_LICENSE_SHA256)" htmx.LICENSE \
		"$(QRCODE_JS_SHA256)" qrcode.js | sha256sum -c --strict -
	@cd "$(TEST_VENDOR_DIR)" && printf '%s  %s\n' \
		"$(AXE_MIN_SHA256)" axe.min.js \
		"$(AXE_LICENSE_SHA256)" axe.LICENSE | sha256sum -c --strict -

vendor-qrcode: ## Fetch qrcode-generator $(QRCODE_VERSION) from npm, verify it, copy it into assets/vendor/
	@set -eu; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	tgz="qrcode-generator-$(QRCODE_VERSION).tgz"; \
	( cd "$$tmp" && npm pack --ignore-scripts --silent "qrcode-generator@$(QRCODE_VERSION)" >/dev/null ); \
	( cd "$$tmp" && echo "$(QRCODE_TGZ_SHA256)  $$tgz" | sha256sum -c --strict - ); \
	tar -xzf "$$tmp/$$tgz" -C "$$tmp" package/dist/qrcode.js; \
	( cd "$$tmp/package" && echo "$(QRCODE_JS_SHA256)  dist/qrcode.js" | sha256sum -c --strict - ); \
	cp "$$tmp/package/dist/qrcode.js" "$(VENDOR_DIR)/qrcode.js.tmp"; \
	mv "$(VENDOR_DIR)/qrcode.js.tmp" "$(VENDOR_DIR)/qrcode.js"; \
	echo "vendored qrcode-generator $(QRCODE_VERSION) into $(VENDOR_DIR)"

vendor-axe: ## Fetch axe-core $(AXE_VERSION) from npm, verify it, copy it into tests/browser/vendor/
	@set -eu; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	tgz="axe-core-$(AXE_VERSION).tgz"; \
	( cd "$$tmp" && npm pack --ignore-scripts --silent "axe-core@$(AXE_VERSION)" >/dev/null ); \
	( cd "$$tmp" && echo "$(AXE_TGZ_SHA256)  $$tgz" | sha256sum -c --strict - ); \
	tar -xzf "$$tmp/$$tgz" -C "$$tmp" package/axe.min.js package/LICENSE; \
	( cd "$$tmp/package" && printf '%s  %s\n' \
		"$(AXE_MIN_SHA256)" axe.min.js \
		"$(AXE_LICENSE_SHA256)" LICENSE | sha256sum -c --strict - ); \
	mkdir -p "$(TEST_VENDOR_DIR)"; \
	cp "$$tmp/package/axe.min.js" "$(TEST_VENDOR_DIR)/axe.min.js.tmp"; \
	cp "$$tmp/package/LICENSE" "$(TEST_VENDOR_DIR)/axe.LICENSE.tmp"; \
	mv "$(TEST_VENDOR_DIR)/axe.min.js.tmp" "$(TEST_VENDOR_DIR)/axe.min.js"; \
	mv "$(TEST_VENDOR_DIR)/axe.LICENSE.tmp" "$(TEST_VENDOR_DIR)/axe.LICENSE"; \
	echo "vendored axe-core $(AXE_VERSION) into $(TEST_VENDOR_DIR)"

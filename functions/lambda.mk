# The functions' release packages for `sam build` (infra/template.yaml: BuildMethod makefile,
# built in source, samconfig.toml). Each function's Makefile includes this file and names its
# binary; all of them are built by ONE cargo-lambda invocation, the first time any function needs
# it (the others find everything fresh): the dependencies and `shared` compile once, both
# cores busy, instead of once per function.
#
#   ARCHITECTURE   arm64 (default, the template's default) or x86_64: the template's
#                  Architecture parameter must match
#   CARGO_TARGET_DIR  where cargo builds (scripts/check-infra: $LAMBDA_TARGET_DIR)
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
ARCHITECTURE ?= arm64
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(ROOT)/target)
LAMBDA_BINARIES := etl start-pipeline promote-model predict monitor score

ifeq ($(ARCHITECTURE),arm64)
ARCH_FLAG := --arm64
else ifeq ($(ARCHITECTURE),x86_64)
ARCH_FLAG := --x86-64
else
$(error ARCHITECTURE must be arm64 or x86_64, not $(ARCHITECTURE))
endif

# Every function's release binary, in one cargo invocation (a no-op when they are fresh);
# `make -f functions/lambda.mk lambdas` from the repository builds them without SAM.
# Each binary's package is named (-p): without, cargo resolves features for every workspace
# member, and the tests' `test-util` features (the SDK's mocks and protocol-test crates) were
# compiled into the release build.
# One such build at a time (flock): cargo's lock covers the compiling, not cargo-lambda's moving
# each binary to lambda/<name>/bootstrap afterwards, and two at once (CI's background build and
# sam build's) raced there: one moved a binary the other then did not find.
.PHONY: lambdas
lambdas:
	mkdir -p "$(TARGET_DIR)"
	cd "$(ROOT)" && CARGO_TARGET_DIR="$(TARGET_DIR)" flock "$(TARGET_DIR)/lambda-build.lock" cargo lambda build --release $(ARCH_FLAG) $(addprefix -p ,$(LAMBDA_BINARIES)) $(addprefix --bin ,$(LAMBDA_BINARIES))

# bootstrap BINARY: every function built (once), then BINARY's bootstrap into SAM's artifacts.
define bootstrap
	$(MAKE) --no-print-directory -f "$(ROOT)/functions/lambda.mk" lambdas
	cp "$(TARGET_DIR)/lambda/$(1)/bootstrap" "$(ARTIFACTS_DIR)/bootstrap"
endef

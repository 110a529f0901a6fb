# The two set-up commands of README.md live here: `make run` and `make test`.
# Both install what is missing on a fresh Debian 12 machine with the Swift toolchain.

SWIFT ?= swift
# C libraries the build links: brotli and zlib for the cache's compression, hiredis as the RESP codec.
APT_PACKAGES_BUILD := libbrotli-dev zlib1g-dev libhiredis-dev
# prometheus (with promtool): a real server scrapes /metrics in the tests, promtool checks conf/prometheus.
# redis-server and redis-cli: the Redis client's tests talk to real servers they start on 127.0.0.1.
# chromium (headless) and a font: the status page is loaded, checked and photographed in a real browser.
APT_PACKAGES_TEST := $(APT_PACKAGES_BUILD) python3 curl openssl prometheus redis-server redis-tools chromium fonts-dejavu-core
APT_PACKAGES_BENCH := $(APT_PACKAGES_BUILD) nginx-light wrk curl python3 nghttp2-client openssl testssl.sh
CONFIG ?= conf/gateway.yaml

.PHONY: run test build release deps deps-build deps-bench bench fuzz format lint demo-backends demo-cdn clean

# Installs the Debian packages named in $(1) that are not installed yet (root or sudo needed only then).
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call apt_install,$(APT_PACKAGES_TEST))

deps-build:
	$(call apt_install,$(APT_PACKAGES_BUILD))

deps-bench:
	$(call apt_install,$(APT_PACKAGES_BENCH))

build: deps-build
	$(SWIFT) build

# Dynamic exclusivity checks cost a thread-local access-set update per class-property access on
# the hot path; the compiler's static checks still run. Measured: about -20% CPU per request.
RELEASE_FLAGS ?= -Xswiftc -enforce-exclusivity=unchecked

release: deps-build
	$(SWIFT) build -c release $(RELEASE_FLAGS)

## make run: the gateway on the demo config, with two small demo backends on 127.0.0.1:9001/9002.
run: deps release
	@scripts/run-demo.sh $(CONFIG)

## make test: the whole test suite (unit and integration tests against real sockets and processes).
## Every test is XCTest, so Swift Testing's empty "0 tests" summary is turned off.
## On failure it ends with a summary (failed tests, the test a crash happened in, the crashed thread).
test: deps build
	SWIFT=$(SWIFT) scripts/run-tests.sh

## make fuzz: every libFuzzer target for FUZZ_SECONDS (60) each; not part of make test (see README, Fuzzing).
fuzz: deps-build
	fuzz/run.sh

## make bench: the gateway side by side with nginx (see loadtest/README.md).
bench: deps-bench release
	loadtest/proxy-bench.sh

# Origin, Redis, three edges in three regions and a director on 127.0.0.1 (see README, CDN).
demo-cdn: deps release
	loadtest/cdn-demo.sh

format:
	$(SWIFT) format -i -r Sources Tests Package.swift fuzz/targets

lint:
	$(SWIFT) format lint -r Sources Tests Package.swift fuzz/targets

clean:
	rm -rf .build

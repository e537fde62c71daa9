# SPDX-License-Identifier: MIT
# scales: the thin front door. The build itself is meson's (build/).
#
#   make test     install what is missing, configure, build, run every suite
#   make demo     the same set-up, then the demo (tools/demo.sh)
#   make bench    the same set-up, then the benchmarks (meson --benchmark)
#   make install  meson install (DESTDIR and PREFIX honoured)
#   make format   clang-format -i over the tracked C files
#   make clean    remove build/
#
# CI=true (as in .ci/run) configures with --werror.

BUILD ?= build
MESON ?= meson
PREFIX ?=

# Debian 12 packages: build, tests (carbon-cache and whisper-fetch from
# graphite-carbon and python3-whisper, promtool and the server from
# prometheus, headless chromium, tmux, curl), fuzzing and sanitizers (clang,
# libclang-rt-14-dev), make format (clang-format), the Python module and
# its tests (python3-dev, python3-pytest, python3-mesonpy, gunicorn,
# python3-prometheus-client; python3-venv for the README's pip install).
DEBS = meson ninja-build pkg-config gcc \
	liburcu-dev libck-dev libcriterion-dev libncurses-dev libmicrohttpd-dev \
	tmux curl graphite-carbon python3-whisper prometheus chromium \
	clang clang-format libclang-rt-14-dev groff-base \
	python3-dev python3-pytest python3-mesonpy gunicorn python3-prometheus-client \
	python3-venv

SETUP_ARGS ?=
ifeq ($(CI),true)
SETUP_ARGS += --werror
endif
ifneq ($(PREFIX),)
SETUP_ARGS += --prefix=$(PREFIX)
endif

TEST_ARGS ?=

.PHONY: all deps setup build test demo bench install format format-check clean fuzz sanitize

all: build

deps:
	@DEBS="$(DEBS)" sh .ci/install-deps

# Always (re)configure: new subdirectories (found with fs.is_file) and a
# changed CI setting are picked up.
setup: deps
	@if [ -f $(BUILD)/meson-private/coredata.dat ]; then \
		echo "$(MESON) setup --reconfigure $(BUILD) $(SETUP_ARGS)"; \
		$(MESON) setup --reconfigure $(BUILD) $(SETUP_ARGS); \
	else \
		echo "$(MESON) setup $(BUILD) $(SETUP_ARGS)"; \
		$(MESON) setup $(BUILD) $(SETUP_ARGS); \
	fi

build: setup
	$(MESON) compile -C $(BUILD)

test: build
	$(MESON) test -C $(BUILD) --print-errorlogs $(TEST_ARGS)

demo: build
	sh tools/demo.sh $(BUILD)

bench: build
	$(MESON) test -C $(BUILD) --benchmark --print-errorlogs $(TEST_ARGS)

# Longer fuzzing than CI's minute, and the sanitizer reruns on demand.
fuzz: build
	sh fuzz/run-fuzz.sh 600

sanitize: build
	SCALES_SANITIZE=1 $(MESON) test -C $(BUILD) --suite sanitize --print-errorlogs

# meson runs tools/post-install.sh (ldconfig) but hides what it says.
install: build
	$(MESON) install -C $(BUILD)
	@cat $(BUILD)/meson-logs/post-install.txt 2>/dev/null || true

C_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

format:
	@[ -n "$(C_FILES)" ] || { echo "no tracked C files"; exit 0; }
	clang-format -i $(C_FILES)

format-check:
	@[ -n "$(C_FILES)" ] || { echo "no tracked C files"; exit 0; }
	clang-format --dry-run --Werror $(C_FILES)

clean:
	rm -rf $(BUILD)

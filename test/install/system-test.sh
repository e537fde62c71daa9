#!/bin/bash
# SPDX-License-Identifier: MIT
# system-test.sh BUILDROOT SRCROOT: a real `meson install` into the
# configured prefix (no DESTDIR), as an administrator would run it, then a
# program built with pkg-config and the installed tools run WITHOUT
# LD_LIBRARY_PATH: the install must leave the dynamic linker able to find
# libscales.so.0 (tools/post-install.sh runs ldconfig). Every path the
# installed man pages name must exist in the install or the source tree.
#
# Nothing leaks onto the machine: the test runs in a private mount
# namespace (unshare -m) with overlays on the prefix and on /etc (where
# ldconfig writes its cache), so the install vanishes with the namespace.
# Needs root and overlayfs; otherwise every check is reported as skipped.
# Prints TAP.
set -u

build=${1:?usage: system-test.sh BUILDROOT SRCROOT}
src=${2:?usage: system-test.sh BUILDROOT SRCROOT}
plan=6

if [ "${SYSTEM_TEST_INSIDE:-}" != 1 ]; then
	why=
	[ "$(id -u)" = 0 ] || why="needs root"
	command -v unshare >/dev/null || why="no unshare"
	if [ -z "$why" ]; then
		work=$(mktemp -d) || exit 1
		trap 'rm -rf "$work"' EXIT
		export SYSTEM_TEST_WORK=$work SYSTEM_TEST_INSIDE=1
		unshare -m --propagation private bash "$0" "$build" "$src"
		exit $?
	fi
	echo "1..$plan"
	for i in $(seq 1 $plan); do
		echo "ok $i - system install # SKIP $why"
	done
	exit 0
fi

# --- inside the private mount namespace ---
work=$SYSTEM_TEST_WORK
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; failed=1; }
echo "1..$plan"

prefix=$(meson introspect "$build" --buildoptions 2>/dev/null |
	/usr/bin/python3 -c 'import json,sys
print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
mkdir -p "$prefix" 2>/dev/null
overlay() { # overlay DIR NAME: writes to DIR land in $work/NAME
	mkdir -p "$work/$2.up" "$work/$2.work" &&
		mount -t overlay overlay \
			-o "lowerdir=$1,upperdir=$work/$2.up,workdir=$work/$2.work" "$1"
}
if ! overlay "$prefix" prefix || ! overlay /etc etc; then
	for i in $(seq 1 $plan); do
		echo "ok $i - system install # SKIP overlayfs not available"
	done
	exit 0
fi

# 1. the install, with its post-install step
unset DESTDIR LD_LIBRARY_PATH
if meson install -C "$build" --no-rebuild >"$work/install.log" 2>&1 &&
	ldconfig -p | grep -q 'libscales\.so\.0 .*=> '"$prefix"'/' &&
	grep -q 'programs find libscales.so.0' \
		"$build/meson-logs/post-install.txt"; then
	ok "meson install into $prefix runs ldconfig: $(cat "$build/meson-logs/post-install.txt")"
else
	nok "meson install into $prefix (with ldconfig)"
	tail -20 "$work/install.log" | sed 's/^/# /'
	sed 's/^/# /' "$build/meson-logs/post-install.txt"
fi

# 2-3. a user's program: pkg-config, then run with no LD_LIBRARY_PATH
cat >"$work/prog.c" <<'PROG'
#include <stdio.h>

#include <scales/scales.h>

int main(void)
{
	scales_registry *reg;
	scales_counter requests;
	int rc = scales_open(NULL, &reg);
	if (rc) {
		fprintf(stderr, "scales: %s\n", scales_strerror(rc));
		return 1;
	}
	scales_counter_get(reg, "/server/requests", NULL, &requests);
	for (int i = 0; i < 1000; i++)
		scales_counter_inc(&requests);
	printf("%s\n", scales_version());
	return scales_close(&reg) ? 1 : 0;
}
PROG
if flags=$(pkg-config --cflags --libs scales 2>&1) &&
	gcc -std=gnu11 "$work/prog.c" -o "$work/prog" $flags >"$work/cc.log" 2>&1; then
	ok "a program builds with pkg-config --cflags --libs scales ($flags)"
else
	nok "a program builds with pkg-config ($flags)"
	sed 's/^/# /' "$work/cc.log" | head -10
fi
mkdir -p "$work/segs"
if out=$(env -u LD_LIBRARY_PATH SCALES_DIR="$work/segs" "$work/prog" 2>&1); then
	ok "it runs without LD_LIBRARY_PATH (prints $out)"
else
	nok "it runs without LD_LIBRARY_PATH: $out"
fi

# 4. the installed tools
bad=
for t in scales-top scales-export; do
	env -u LD_LIBRARY_PATH "$prefix/bin/$t" --version >"$work/$t.out" 2>&1 ||
		bad="$bad $t: $(head -1 "$work/$t.out")"
done
if [ -z "$bad" ]; then
	ok "the installed scales-top and scales-export run without LD_LIBRARY_PATH"
else
	nok "installed tools:$bad"
fi

# 5. the documents the man pages point at are installed
mandir=$prefix/share/man
pages=$(find "$mandir" -name 'scales*' -o -name 'libscales*' | sort)
missing=
named=0
for p in $pages; do
	text=$(zcat -f "$p" | sed 's/\\-/-/g')
	for f in $(printf '%s\n' "$text" |
		grep -o '/usr/local/share/doc/scales/[A-Za-z0-9_.-]*' | sort -u); do
		named=$((named + 1))
		f=$prefix/${f#/usr/local/}
		[ -e "$f" ] || missing="$missing $f"
	done
done
if [ -n "$pages" ] && [ "$named" -gt 0 ] && [ -z "$missing" ]; then
	ok "every installed path the man pages name exists ($named names)"
else
	nok "man pages name missing paths ($named names, pages: $(echo $pages)):$missing"
fi

# 6. ... and every source path they name exists in the tree
missing=
named=0
for p in "$src"/tools/*/*.1 "$src"/docs/man/*.[0-9]; do
	for f in $(sed 's/\\-/-/g' "$p" |
		grep -o '\(docs\|tools\|test\|examples\)/[A-Za-z0-9_./-]*[A-Za-z0-9_]' |
		sort -u); do
		named=$((named + 1))
		[ -e "$src/$f" ] || missing="$missing $f"
	done
done
if [ "$named" -gt 0 ] && [ -z "$missing" ]; then
	ok "every source-tree path the man pages name exists ($named names)"
else
	nok "man pages name missing source paths:$missing"
fi
exit $failed

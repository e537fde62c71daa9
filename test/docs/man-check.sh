#!/bin/bash
# SPDX-License-Identifier: MIT
# man-check.sh SRCROOT LIBSCALES: for each man page of docs/man/, groff
# reports no warning (skipped where groff is missing); the program between
# .EX and .EE in libscales(3) compiles and runs. Prints TAP.
set -u
src=${1:?usage: man-check.sh SRCROOT LIBSCALES}
lib=${2:?usage: man-check.sh SRCROOT LIBSCALES}
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT

pages=$(ls "$src"/docs/man/*.[137] 2>/dev/null)
count=$(printf '%s\n' $pages | grep -c .)
echo "1..$((count + 1))"
n=0
fail=0
for p in $pages; do
	n=$((n + 1))
	name=$(basename "$p")
	if ! command -v groff >/dev/null; then
		echo "ok $n - $name # SKIP groff is not installed"
		continue
	fi
	if LC_ALL=C.UTF-8 groff -man -ww -z "$p" >"$work/log" 2>&1 &&
		[ ! -s "$work/log" ]; then
		echo "ok $n - $name: groff -man -ww reports nothing"
	else
		echo "not ok $n - $name: groff warnings"
		sed 's/^/# /' "$work/log"
		fail=1
	fi
done

n=$((n + 1))
page=$src/docs/man/libscales.3
if [ ! -f "$page" ]; then
	echo "not ok $n - libscales.3 exists"
	exit 1
fi
# the roff escapes used in the example: \- and \e
sed -n '/^\.EX$/,/^\.EE$/p' "$page" | sed '1d;$d' |
	sed -e 's/\\-/-/g' -e 's/\\e/\\/g' >"$work/ex.c"
libdir=$(cd "$(dirname "$lib")" && pwd)
if [ ! -s "$work/ex.c" ]; then
	echo "not ok $n - libscales.3 has an example between .EX and .EE"
	fail=1
elif ! gcc -std=gnu11 -Wall -Wextra -Werror -I"$src/writer/include" \
	"$work/ex.c" -o "$work/ex" -L"$libdir" -Wl,-rpath,"$libdir" \
	-lscales >"$work/cc" 2>&1; then
	echo "not ok $n - libscales.3 EXAMPLES compiles"
	sed 's/^/# /' "$work/cc"
	fail=1
elif ! (mkdir "$work/segs" && SCALES_DIR=$work/segs "$work/ex") \
	>"$work/run" 2>&1; then
	echo "not ok $n - libscales.3 EXAMPLES runs and exits 0"
	sed 's/^/# /' "$work/run"
	fail=1
else
	echo "ok $n - libscales.3 EXAMPLES compiles and runs"
fi
exit $fail

#!/bin/sh
# SPDX-License-Identifier: MIT
# header-targets.sh SOURCE_ROOT: the public headers on other targets, syntax
# only, with clang (issue 13, item 9). Prints TAP.
#
# 32-bit and 64-bit little-endian targets must compile <scales/scales.h>
# (the portable path: no rseq asm, no 128-bit multiply on 32 bits) and
# <scales/reader.h>. Big-endian targets must refuse <scales/scales.h> with
# its #error, since a big-endian writer would write segments that claim to
# be little-endian; <scales/reader.h> compiles there (the reader library
# refuses foreign segments at run time). Foreign targets have no libc
# headers here: they get -ffreestanding, -nostdinc, clang's own headers and
# the stubs in include/. Exits 77 if clang is missing.
set -u
root=${1:?usage: header-targets.sh SOURCE_ROOT}
here=$root/test/writer/targets
clang=${CLANG:-clang}
if ! command -v "$clang" >/dev/null 2>&1; then
	echo "header-targets: clang not found, skipped" >&2
	exit 77
fi
res=$("$clang" -print-resource-dir)/include
inc="-I$root/writer/include -I$root/reader/include"
cflags="-std=gnu11 -Wall -Wextra -Werror -fsyntax-only"
stub="-ffreestanding -nostdinc -isystem $res -isystem $here/include"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

n=0
fail=0
plan=""
ok() { n=$((n + 1)); plan="$plan
ok $n - $1"; }
notok() { n=$((n + 1)); fail=1; plan="$plan
not ok $n - $1
$(sed 's/^/# /' "$tmp/err")"; }
skip() { n=$((n + 1)); plan="$plan
ok $n - $1 # SKIP $2"; }

# check NAME EXPECT(pass|refuse) ARGS...: compiles tu.c with ARGS.
check() {
	name=$1 expect=$2
	shift 2
	if "$clang" "$@" "$here/tu.c" >"$tmp/err" 2>&1; then
		if [ "$expect" = pass ]; then ok "$name"; else
			echo "compiled, but must be refused" >"$tmp/err"
			notok "$name"
		fi
	elif [ "$expect" = refuse ] &&
	    grep -q 'big-endian targets unsupported' "$tmp/err"; then
		ok "$name (refused by its #error)"
	else
		notok "$name"
	fi
}

# The host, with its real headers (the rseq asm on x86-64 with glibc).
check "host: scales.h" pass $cflags $inc -DTU_WRITER
check "host: reader.h" pass $cflags $inc -DTU_READER

for t in i686-linux-gnu armv7-linux-gnueabihf aarch64-linux-gnu \
    powerpc64le-linux-gnu powerpc64-linux-gnu powerpc-linux-gnu \
    s390x-linux-gnu; do
	: >"$tmp/empty.c"
	if ! "$clang" -target "$t" $stub -fsyntax-only "$tmp/empty.c" \
	    >/dev/null 2>&1; then
		skip "$t" "clang cannot target it"
		skip "$t" "clang cannot target it"
		continue
	fi
	case $t in
	powerpc64-* | powerpc-* | s390x-*) w=refuse ;;
	*) w=pass ;;
	esac
	check "$t: scales.h" $w -target "$t" $cflags $stub $inc -DTU_WRITER
	check "$t: reader.h" pass -target "$t" $cflags $stub $inc -DTU_READER
done

echo "TAP version 13"
echo "1..$n"
printf '%s\n' "$plan" | sed '/^$/d'
exit $fail

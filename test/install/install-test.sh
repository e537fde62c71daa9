#!/bin/bash
# SPDX-License-Identifier: MIT
# install-test.sh BUILDROOT SRCROOT VERSION: `meson install --destdir` into a
# temporary directory, then checks what a user of the installed library
# gets: headers under include/scales/, scales.pc, a versioned soname, only
# scales_* symbols exported, an out-of-tree program built with
# `pkg-config --cflags --libs scales` that runs against the installed
# library, the man pages, and the tools' --version. Prints TAP.
#
# The destdir keeps the configured prefix inside it, so pkg-config is
# pointed at it with PKG_CONFIG_SYSROOT_DIR (the way distributions build
# against a staged install) and programs run with LD_LIBRARY_PATH.
set -u

build=${1:?usage: install-test.sh BUILDROOT SRCROOT VERSION}
src=${2:?usage: install-test.sh BUILDROOT SRCROOT VERSION}
version=${3:?usage: install-test.sh BUILDROOT SRCROOT VERSION}

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
dest=$work/dest

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; failed=1; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { # check DESCRIPTION COMMAND...: ok if the command succeeds
	local d=$1
	shift
	if "$@" >"$work/out" 2>&1; then
		ok "$d"
	else
		nok "$d"
		sed 's/^/# /' "$work/out" | head -40
	fi
}

echo "1..16"

# 1. install
if meson install -C "$build" --no-rebuild --destdir "$dest" \
	>"$work/install.log" 2>&1; then
	ok "meson install --destdir"
else
	nok "meson install --destdir"
	sed 's/^/# /' "$work/install.log" | tail -40
	for i in $(seq 2 16); do skip "install step $i" "install failed"; done
	exit 1
fi

prefix=$(meson introspect "$build" --buildoptions 2>/dev/null |
	python3 -c 'import json,sys
print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
root=$dest$prefix

# 2. headers
check "headers installed as include/scales/scales.h and reader.h" \
	test -f "$root/include/scales/scales.h" -a \
	-f "$root/include/scales/reader.h"

# 3. the library and its soname
lib=$(find "$root" -name 'libscales.so.0' | head -1)
if [ -n "$lib" ] && [ -L "$lib" ] &&
	[ -e "$(dirname "$lib")/libscales.so" ]; then
	soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
	if [ "$soname" = libscales.so.0 ]; then
		ok "libscales.so -> libscales.so.0 -> $(readlink "$lib"), soname $soname"
	else
		nok "soname is '$soname', want libscales.so.0"
	fi
else
	nok "libscales.so.0 (a symlink) and libscales.so installed"
	find "$root" -name 'libscales*' | sed 's/^/# /'
fi
libdir=$(dirname "${lib:-$root/lib/none}")

# 4. exported symbols
if [ -n "$lib" ]; then
	nm -D --defined-only "$lib" >"$work/syms" 2>&1
	# type A: the version node (SCALES_0.1) itself
	# exactly the names writer/libscales.map lists, all scales_*
	awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' "$work/syms" |
		sort >"$work/exported"
	sed -n 's/^[[:space:]]*\(scales_[A-Za-z0-9_]*\);$/\1/p' \
		"$src/writer/libscales.map" | sort >"$work/listed"
	# ... and exactly the functions the public header declares SCALES_API
	grep -A2 '^SCALES_API' "$src/writer/include/scales/scales.h" |
		grep -o 'scales_[a-z0-9_]*(' | tr -d '(' | sort -u >"$work/declared"
	count=$(wc -l <"$work/exported")
	if [ "$count" -gt 0 ] && cmp -s "$work/exported" "$work/listed" &&
		cmp -s "$work/declared" "$work/listed" &&
		! grep -qv '^scales_' "$work/exported"; then
		ok "exactly the SCALES_API functions, listed in libscales.map, exported ($count)"
	else
		nok "exported symbols, libscales.map and SCALES_API declarations differ"
		diff "$work/listed" "$work/exported" | sed 's/^/# map vs exported: /' | head -20
		diff "$work/listed" "$work/declared" | sed 's/^/# map vs header: /' | head -20
	fi
	if objdump -T "$lib" | grep -q 'SCALES_0\.1'; then
		ok "symbols carry the version node SCALES_0.1"
	else
		nok "symbols carry the version node SCALES_0.1"
	fi
else
	nok "only scales_* symbols exported (no library)"
	nok "symbol version node (no library)"
fi

# 6. pkg-config
pcdir=$(dirname "$(find "$root" -name scales.pc | head -1)")
export PKG_CONFIG_PATH=$pcdir
export PKG_CONFIG_SYSROOT_DIR=$dest
if [ -f "$pcdir/scales.pc" ] &&
	mv=$(pkg-config --modversion scales 2>&1) && [ "$mv" = "$version" ]; then
	ok "pkg-config finds scales $mv"
else
	nok "pkg-config --modversion scales gives '$mv', want $version"
fi

# 7. an out-of-tree program, built through pkg-config, run
cat >"$work/prog.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <scales/scales.h>

int main(void)
{
	scales_registry *reg;
	scales_counter c;
	scales_histogram h;
	int rc = scales_open(NULL, &reg);
	if (rc) {
		fprintf(stderr, "open: %s\n", scales_strerror(rc));
		return 1;
	}
	if (scales_counter_get(reg, "/installed/requests", NULL, &c) ||
	    scales_histogram_get(reg, "/installed/latency", NULL, NULL, &h))
		return 2;
	for (int i = 0; i < 1000; i++) {
		SCALES_TIME(&h) {
			scales_counter_inc(&c);
		}
	}
	const char *path = scales_registry_path(reg);
	if (access(path, R_OK) != 0)
		return 3;
	if (strcmp(scales_version(), SCALES_VERSION_STRING) != 0)
		return 4;
	printf("%s\n", scales_version());
	return scales_close(&reg) ? 5 : 0;
}
EOF
flags=$(pkg-config --cflags --libs scales 2>&1)
if gcc -std=gnu11 -Wall -Wextra -Werror "$work/prog.c" -o "$work/prog" \
	$flags >"$work/cc.log" 2>&1; then
	ok "out-of-tree program builds with: $flags"
else
	nok "out-of-tree program builds with pkg-config --cflags --libs scales"
	sed 's/^/# /' "$work/cc.log" | head -30
fi
if [ -x "$work/prog" ]; then
	needed=$(readelf -d "$work/prog" | grep -c 'Shared library: \[libscales.so.0\]')
	segdir=$work/segs
	mkdir -p "$segdir"
	out=$(SCALES_DIR=$segdir LD_LIBRARY_PATH=$libdir "$work/prog" 2>&1)
	rc=$?
	resolved=$(LD_LIBRARY_PATH=$libdir ldd "$work/prog" |
		sed -n 's/.*libscales.so.0 => \([^ ]*\).*/\1/p')
	if [ "$rc" = 0 ] && [ "$out" = "$version" ] && [ "$needed" = 1 ] &&
		[ "$resolved" -ef "$lib" ]; then
		ok "it runs against the installed libscales.so.0 and prints $out"
	else
		nok "out-of-tree program: status $rc, output '$out', needs libscales.so.0: $needed, resolved to '$resolved'"
	fi
else
	nok "out-of-tree program runs (not built)"
fi

# 9. the reader library, for programs that read segments
if [ -f "$libdir/libscales_reader.a" ]; then
	ok "libscales_reader.a installed beside libscales"
else
	nok "libscales_reader.a installed"
fi

# 10-13. man pages
mandir=$root/share/man
for page in scales.7 libscales.3 scales-top.1 scales-export.1; do
	sec=${page##*.}
	if [ -f "$mandir/man$sec/$page" ] || [ -f "$mandir/man$sec/$page.gz" ]; then
		ok "man page $page installed"
	elif [ "$page" = scales-top.1 ] || [ "$page" = scales-export.1 ]; then
		if [ -z "$(find "$src/docs" "$src/tools" -name "$page" 2>/dev/null)" ]; then
			skip "man page $page installed" "the page is not written yet"
		else
			nok "man page $page installed (it exists in the source tree)"
		fi
	else
		nok "man page $page installed"
	fi
done

# 14-15. the tools report the project's version
for tool in scales-top scales-export; do
	exe=$root/bin/$tool
	if [ ! -x "$exe" ]; then
		if [ -f "$src/tools/$tool/meson.build" ]; then
			nok "$tool installed in bin/"
		else
			skip "$tool --version" "the tool is not built yet (no tools/$tool/meson.build)"
		fi
		continue
	fi
	v=$(LD_LIBRARY_PATH=$libdir "$exe" --version 2>&1 | head -1)
	case "$v" in
	*"$version"*) ok "$tool --version: $v" ;;
	*) nok "$tool --version prints '$v', not the project version $version" ;;
	esac
done

# 16. nothing private installed
private=$(find "$root" -name 'scales_shm.h' -o -name 'internal.h' |
	sed "s|^$dest||")
if [ -z "$private" ]; then
	ok "no private header installed"
else
	nok "private headers installed: $private"
fi

exit $failed

#!/bin/bash
# SPDX-License-Identifier: MIT
# docs-examples.sh SRCROOT LIBSCALES LIBSCALES_READER [MD...]: compiles every
# ```c block of docs/*.md and README.md (or of the MD files given) against
# the headers of the source tree, so that the docs cannot drift from the API.
# Prints TAP, one test point per block.
#
# Info strings of the fences (the first word must be "c"):
#   ```c            a translation unit. With a main(), it is linked with
#                   libscales (and libscales_reader if it includes
#                   <scales/reader.h>) and run in a fresh SCALES_DIR: it must
#                   exit 0 and leave no segment behind. Without a main(), it
#                   is compiled only.
#   ```c fragment   statements, wrapped into the body of
#                   `void fragment(scales_registry *reg)` after the usual
#                   headers (stdio, stdlib, string, errno, unistd, pthread,
#                   <scales/scales.h>); a main() opens a registry, calls it,
#                   closes the registry and must exit 0.
#   ```c norun      as above (either form: "c fragment norun" works too), but
#                   compiled and linked only, never run (a server that runs
#                   until it is killed).
# A block right after an "<!-- BEGIN name -->" line is skipped: test/readme
# extracts that block by name, compiles it and runs it.
#
# Flags: gcc -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror, the
# warnings the project builds with; each block starts with a #line directive,
# so a diagnostic names the Markdown file and line.
set -u

src=${1:?usage: docs-examples.sh SRCROOT LIBSCALES LIBSCALES_READER [MD...]}
lib=${2:?missing libscales}
rlib=${3:?missing libscales_reader}
shift 3
if [ $# -eq 0 ]; then
	set -- "$src"/README.md "$src"/docs/*.md
fi

CC=${CC:-gcc}
CFLAGS="-std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror"
CFLAGS="$CFLAGS -I$src/writer/include -I$src/reader/include"
libdir=$(cd "$(dirname "$lib")" && pwd)
LDLIBS="-L$libdir -Wl,-rpath,$libdir -lscales -lpthread"
RLIBS="$rlib -lm -lpthread"

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT

# Split each file into blocks: $work/b<N>.c holds the code, b<N>.meta one
# line "file line info".
n=0
for md in "$@"; do
	[ -f "$md" ] || continue
	rel=${md#"$src"/}
	awk -v rel="$rel" -v dir="$work" -v start="$n" '
		BEGIN { n = start; inblock = 0; marked = 0 }
		inblock && /^```[ \t]*$/ {
			inblock = 0; close(out); next
		}
		inblock { print > out; next }
		/^<!-- BEGIN [^ ]+ -->$/ { marked = 1; next }
		/^```c([ \t]|$)/ {
			info = substr($0, 4); sub(/^[ \t]+/, "", info)
			n++
			out = dir "/b" n ".c"
			printf "" > out
			meta = dir "/b" n ".meta"
			printf "%s %d %s%s\n", rel, NR + 1, info,
			    (marked ? " readme" : "") > meta
			close(meta)
			inblock = 1; marked = 0; next
		}
		/^[^ \t]/ { marked = 0 }
		END { print n > (dir "/count") }
	' "$md" || exit 1
	n=$(cat "$work/count")
done

echo "1..$n"
if [ "$n" -eq 0 ]; then
	echo "# no \`\`\`c blocks found"
	exit 0
fi

fail=0
for i in $(seq 1 "$n"); do
	read -r file line info <"$work/b$i.meta"
	code=$work/b$i.c
	tu=$work/t$i.c
	exe=$work/x$i
	desc="$file:$line"
	case " $info " in
	*" readme "*)
		echo "ok $i - $desc # SKIP compiled and run by test/readme"
		continue
		;;
	esac
	fragment=0
	run=1
	case " $info " in *" fragment "*) fragment=1 ;; esac
	case " $info " in *" norun "*) run=0 ;; esac

	if [ "$fragment" = 1 ]; then
		{
			printf '%s\n' '#include <errno.h>' '#include <pthread.h>' \
			    '#include <stdio.h>' '#include <stdlib.h>' \
			    '#include <string.h>' '#include <unistd.h>' \
			    '#include <scales/scales.h>' \
			    'void fragment(scales_registry *reg);' \
			    'void fragment(scales_registry *reg)' '{'
			printf '#line %d "%s"\n' "$line" "$file"
			cat "$code"
			printf '%s\n' '}' '#line 1 "fragment-main"' \
			    'int main(void)' '{' \
			    '	scales_registry *reg;' \
			    '	int rc = scales_open(NULL, &reg);' \
			    '	if (rc) {' \
			    '		fprintf(stderr, "open: %s\n", scales_strerror(rc));' \
			    '		return 1;' '	}' \
			    '	fragment(reg);' \
			    '	return scales_close(&reg) ? 1 : 0;' '}'
		} >"$tu"
		has_main=1
	else
		{
			printf '#line %d "%s"\n' "$line" "$file"
			cat "$code"
		} >"$tu"
		if grep -Eq '^(int|static int)[[:space:]]+main[[:space:]]*\(' "$code"; then
			has_main=1
		else
			has_main=0
		fi
	fi

	libs=$LDLIBS
	if grep -q '<scales/reader.h>' "$code"; then
		libs="$RLIBS $LDLIBS"
	fi
	if [ "$has_main" = 0 ]; then
		what="compiled"
		cmd=("$CC" $CFLAGS -c "$tu" -o "$work/o$i.o")
	else
		what="compiled and linked"
		cmd=("$CC" $CFLAGS "$tu" -o "$exe" $libs)
	fi
	if ! "${cmd[@]}" >"$work/log$i" 2>&1; then
		echo "not ok $i - $desc ($info): does not compile"
		sed 's/^/# /' "$work/log$i"
		fail=1
		continue
	fi
	if [ "$has_main" = 0 ] || [ "$run" = 0 ]; then
		echo "ok $i - $desc ($what)"
		continue
	fi
	dir=$(mktemp -d "$work/dir.XXXXXX")
	(cd "$dir" && SCALES_DIR=$dir timeout 60 "$exe") >"$work/out$i" 2>&1
	rc=$?
	left=$(find "$dir" -name '*.seg' | wc -l)
	if [ "$rc" != 0 ]; then
		echo "not ok $i - $desc: exited with status $rc"
		sed 's/^/# /' "$work/out$i"
		fail=1
	elif [ "$left" != 0 ]; then
		echo "not ok $i - $desc: left $left segment(s) behind"
		fail=1
	else
		echo "ok $i - $desc (compiled, linked and run)"
	fi
done
exit $fail

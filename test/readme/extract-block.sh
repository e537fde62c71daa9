#!/bin/sh
# SPDX-License-Identifier: MIT
# extract-block.sh NAME INPUT OUTPUT: copies the fenced code block between
# "<!-- BEGIN NAME -->" and "<!-- END NAME -->" of a Markdown file, without
# the fences. Fails if the block is missing or empty.
set -eu
name=$1
in=$2
out=$3
sed -n "/^<!-- BEGIN $name -->\$/,/^<!-- END $name -->\$/p" "$in" |
	sed '1d;$d' | sed '1{/^```/d};${/^```/d}' >"$out.tmp"
if [ ! -s "$out.tmp" ]; then
	echo "extract-block.sh: no block $name in $in" >&2
	rm -f "$out.tmp"
	exit 1
fi
mv "$out.tmp" "$out"

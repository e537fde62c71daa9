#!/bin/sh
# SPDX-License-Identifier: MIT
# docs-coverage.sh HEADER DOC: every public name of the header (scales_*
# functions, types and struct tags, SCALES_* macros and enum constants; not
# the private scales__* helpers or the include guard) must appear in DOC.
# One TAP test point per name that is missing, or one "ok" if none is.
set -u
hdr=${1:?usage: docs-coverage.sh HEADER DOC}
doc=${2:?usage: docs-coverage.sh HEADER DOC}
names=$(grep -oE '\b(scales_[a-z0-9_]+|SCALES_[A-Z0-9_]+)\b' "$hdr" |
	grep -vE '^(scales__|SCALES_SCALES_H$)' | sort -u)
total=$(printf '%s\n' "$names" | wc -l)
missing=
for name in $names; do
	grep -qw -- "$name" "$doc" || missing="$missing $name"
done
echo "1..1"
if [ -z "$missing" ]; then
	echo "ok 1 - $(basename "$doc") mentions all $total public names of $(basename "$hdr")"
	exit 0
fi
echo "not ok 1 - $(basename "$doc") lacks public names of $(basename "$hdr")"
for name in $missing; do
	echo "# missing: $name"
done
exit 1

#!/bin/sh
# SPDX-License-Identifier: MIT
# Regenerates tools/scales-export/scales-export.1 from scales-export.1.in
# and the option table (scales-export --help-man). Usage:
#   tools/scales-export/update-man.sh BUILD/tools/scales-export/scales-export
# test/export/man-test.sh fails when the checked-in page is out of date.
set -eu
exe=${1:?usage: update-man.sh PATH/TO/scales-export}
dir=$(dirname "$0")
"$exe" --help-man >"$dir/.options.roff"
awk -v opts="$dir/.options.roff" '
	/^\.\\" BEGIN OPTIONS/ { print; while ((getline l < opts) > 0) print l; skip = 1; next }
	/^\.\\" END OPTIONS/ { skip = 0 }
	!skip { print }
' "$dir/scales-export.1.in" >"$dir/scales-export.1"
rm -f "$dir/.options.roff"

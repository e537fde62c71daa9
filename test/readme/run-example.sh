#!/bin/sh
# SPDX-License-Identifier: MIT
# run-example.sh EXE: runs the README's example in a fresh SCALES_DIR; it
# must exit 0 and leave no segment behind (scales_close removes it).
set -u
exe=${1:?usage: run-example.sh EXE}
SCALES_DIR=$(mktemp -d) || exit 1
export SCALES_DIR
trap 'rm -rf "$SCALES_DIR"' EXIT
"$exe"
rc=$?
if [ "$rc" != 0 ]; then
	echo "run-example.sh: $exe exited with status $rc" >&2
	exit 1
fi
left=$(find "$SCALES_DIR" -name '*.seg' | wc -l)
if [ "$left" != 0 ]; then
	echo "run-example.sh: $left segment(s) left in $SCALES_DIR" >&2
	exit 1
fi
exit 0

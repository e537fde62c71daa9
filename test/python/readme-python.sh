#!/bin/sh
# SPDX-License-Identifier: MIT
# readme-python.sh SRCDIR BUILDDIR: runs the README's Python section as
# written. The build-tree block runs in a scratch directory where python/
# and build/ are the repository's and the build's (so that its relative
# PYTHONPATH holds); the pip block runs at the repository's root, offline
# (PIP_NO_INDEX: nothing is fetched; --no-build-isolation uses Debian's
# meson-python), with only its /tmp/venv moved into the scratch directory.
set -eu
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)
extract=$src/test/readme/extract-block.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scales-readme-py.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/seg" "$tmp/run"
export SCALES_DIR="$tmp/seg" PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1
unset PYTHONPATH

block() { # NAME OUT: the block, its 4-space code indentation removed
	"$extract" "$1" "$src/README.md" "$2.md"
	sed 's/^    //' "$2.md" >"$2"
}

block readme-python-build-tree "$tmp/build-tree.sh"
ln -s "$src/python" "$tmp/run/python"
ln -s "$build" "$tmp/run/build"
out=$(cd "$tmp/run" && sh "$tmp/build-tree.sh")
echo "build tree: $out"
case $out in *"'requests': 1"*) ;; *) out= ;; esac
case $out in *"'latency': {'count': 1,"*) ;; *) out= ;; esac
[ -n "$out" ] || {
	echo "FAIL: the build-tree example did not count its request and its timed block" >&2
	exit 1
}

block readme-python-pip "$tmp/pip.sh"
grep -q '/tmp/venv' "$tmp/pip.sh"
sed "s|/tmp/venv|$tmp/venv|g" "$tmp/pip.sh" >"$tmp/pip-here.sh"
out=$(cd "$src" && sh -e "$tmp/pip-here.sh" 2>"$tmp/pip.err") || {
	cat "$tmp/pip.err" >&2
	echo "FAIL: the pip block failed" >&2
	exit 1
}
echo "pip: $(echo "$out" | tail -1)"
[ "$(echo "$out" | tail -1)" = "{}" ] || {
	echo "FAIL: the installed module printed $out" >&2
	exit 1
}
# The module imported is the installed one, not the source tree's.
where=$(cd "$tmp" && "$tmp/venv/bin/python" -c 'import _scales; print(_scales.__file__)')
case $where in
"$tmp/venv/"*) echo "installed: $where" ;;
*)
	echo "FAIL: _scales came from $where, not the venv" >&2
	exit 1
	;;
esac
echo "1 passed, 0 failed"

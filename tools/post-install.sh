#!/bin/sh
# SPDX-License-Identifier: MIT
# post-install.sh LIBDIR: run by `meson install` (meson.add_install_script)
# after it has copied the files. Meson does not run ldconfig, so a program
# linked against libscales.so.0 would not find it until the dynamic
# linker's cache is refreshed: as root, this runs ldconfig. Staged installs
# (DESTDIR) are left to the packager. Meson hides a script's output, so the
# verdict also goes to meson-logs/post-install.txt in the build directory,
# which `make install` prints.
libdir=${1:?usage: post-install.sh LIBDIR}
report=${MESON_BUILD_ROOT:+$MESON_BUILD_ROOT/meson-logs/post-install.txt}

say() {
	echo "scales: $*"
	[ -z "$report" ] || echo "scales: $*" >>"$report"
}

[ -z "$report" ] || : >"$report"
if [ -n "${DESTDIR:-}" ]; then
	say "staged install (DESTDIR): run ldconfig where the files end up"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	say "installed libscales.so.0 in $libdir; as root, run ldconfig" \
		"(or set LD_LIBRARY_PATH=$libdir) before running programs" \
		"linked against it"
	exit 0
fi
if ! ldconfig; then
	say "ldconfig failed; run it by hand, or set LD_LIBRARY_PATH=$libdir"
	exit 0
fi
# ldconfig -p lists "libscales.so.0 (libc6,x86-64) => /path/libscales.so.0"
if ldconfig -p | grep -q "libscales\.so\.0 .*=> $libdir/libscales\.so\.0\$"; then
	say "ran ldconfig: programs find libscales.so.0 in $libdir"
else
	say "$libdir is not in the dynamic linker's search path: add it to" \
		"/etc/ld.so.conf.d/scales.conf and run ldconfig, or set" \
		"LD_LIBRARY_PATH=$libdir"
fi

#!/bin/sh
# make deb: build the Debian package from this tree with Debian's tools
# (dpkg-buildpackage -us -uc -b), in a temporary copy so the tree stays as
# it is (no debian/leakwatch/, no build/ of Debian's flags, nothing written
# beside it).
#
#   sh debian/make-deb.sh OUTDIR
#
# The copy holds what git would commit (tracked and untracked files, not the
# ignored ones: build/ and the like), or everything but build*/ and .git
# outside a git checkout.  The .deb (and leakwatch-dbgsym's), .buildinfo and
# .changes land in OUTDIR;
# the last line printed is the .deb's path.  Exit status: 0 when built,
# 1 when dpkg-buildpackage failed (its output is above), 2 on bad usage or
# a missing tool.
set -eu

[ $# -eq 1 ] || { echo "usage: sh debian/make-deb.sh OUTDIR" >&2; exit 2; }
for tool in dpkg-buildpackage dh tar; do
	command -v $tool >/dev/null 2>&1 || {
		echo "make deb: $tool not found (apt install dpkg-dev debhelper)" >&2; exit 2; }
done
REPO=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
VERSION=$(dpkg-parsechangelog -l "$REPO/debian/changelog" -S Version)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/leakwatch-deb.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM HUP
SRC=$TMP/leakwatch-$VERSION
mkdir "$SRC"
if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# files deleted in the work tree but not in the index are left out
	git -C "$REPO" ls-files -z --cached --others --exclude-standard |
		(cd "$REPO" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done; :' sh) |
		(cd "$REPO" && tar --null --no-recursion -T - -cf -) | tar -xf - -C "$SRC"
else
	(cd "$REPO" && tar --exclude='./build*' --exclude=./.git -cf - .) | tar -xf - -C "$SRC"
fi

# Both cores unless the caller says otherwise.
case " ${DEB_BUILD_OPTIONS:-} " in
*" parallel="*) ;;
*) DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }parallel=$(nproc 2>/dev/null || echo 1)" ;;
esac
export DEB_BUILD_OPTIONS
(cd "$SRC" && dpkg-buildpackage -us -uc -b) || exit 1

ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)
# the package, its debug symbols (leakwatch-dbgsym), .buildinfo and .changes
for f in "$TMP"/leakwatch*_"$VERSION"_"$ARCH".*; do
	mv -f "$f" "$OUT/"
done
echo "$OUT/leakwatch_${VERSION}_$ARCH.deb"

#!/bin/sh
# Builds the Debian package from a copy of the source tree, so the checkout
# stays clean, then checks it with lintian.
#
# Usage: tools/build-deb.sh            (what `make deb` runs)
# Result: build/deb/ocppd_<version>_all.deb (+ .changes, .buildinfo, lintian.txt)
# Environment:
#   OCPPD_LINTIAN=no      skip the lintian check
#   DEB_BUILD_OPTIONS     passed through to dpkg-buildpackage
#
# Needs the Debian packages `tools/system-deps.sh deb` installs.
set -eu

cd "$(dirname "$0")/.."
top=$(pwd)
out="$top/build/deb"

die() { echo "build-deb: $*" >&2; exit 1; }

[ -f debian/changelog ] || die "run from an ocppd checkout (debian/changelog missing)"
[ -f etc/ocppd.toml ] || die "etc/ocppd.toml missing: the package installs it as /etc/ocppd.toml"

# The package version comes from debian/changelog, the Python one from
# ocppd/__init__.py; a release bumps both.
deb_version=$(dpkg-parsechangelog -S Version)
py_version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' ocppd/__init__.py)
[ "$deb_version" = "$py_version" ] \
    || die "debian/changelog says $deb_version, ocppd/__init__.py says $py_version (add a changelog entry: dch -v $py_version)"

work=$(mktemp -d "${TMPDIR:-/tmp}/ocppd-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
src="$work/ocppd-$deb_version"
mkdir "$src"

# Copy what git would commit (tracked and new files, not ignored ones);
# without git, everything but build products and virtualenvs.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files --cached --others --exclude-standard | while IFS= read -r f; do
        # a tracked file deleted in the checkout is left out
        if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\n' "$f"; fi
    done > "$work/files"
    tar -C "$top" -cf - --no-recursion -T "$work/files" | tar -C "$src" -xf -
else
    tar -C "$top" -cf - --exclude=./build --exclude='./.venv*' --exclude=./.git \
        --exclude='*.egg-info' --exclude=__pycache__ . | tar -C "$src" -xf -
fi

# A clean environment: pybuild must find Debian's /usr/bin/python3, not a
# pyenv or virtualenv python3 earlier on PATH.
(
    cd "$src"
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$work" LANG=C.UTF-8 \
        DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-}" \
        dpkg-buildpackage -us -uc -b
)

mkdir -p "$out"
rm -f "$out"/ocppd_*
cp "$work"/ocppd_"$deb_version"_* "$out"/
changes=$(ls "$out"/ocppd_"$deb_version"_*.changes)
echo "build-deb: built $out/ocppd_${deb_version}_all.deb"

if [ "${OCPPD_LINTIAN:-yes}" != no ]; then
    # Any tag, down to info and pedantic ones, fails the build.
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$work" LANG=C.UTF-8 \
        lintian -I -E --pedantic --fail-on none "$changes" > "$out/lintian.txt" \
        || die "lintian failed to run"
    if [ -s "$out/lintian.txt" ]; then
        cat "$out/lintian.txt" >&2
        die "lintian reported the tags above (also in $out/lintian.txt)"
    fi
    echo "build-deb: lintian -I -E --pedantic: clean"
fi

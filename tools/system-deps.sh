#!/bin/sh
# Installs the Debian packages a make target needs, only those missing.
# Usage: tools/system-deps.sh demo|test|deb
# Runs apt-get as root, through sudo when available; otherwise says what to install.
set -eu

demo_pkgs="python3 python3-venv"
# systemd-python (journald tests) is built from source: compiler, headers, pkg-config.
test_pkgs="$demo_pkgs python3-dev build-essential pkg-config libsystemd-dev systemd socat"
deb_pkgs="debhelper dh-python pybuild-plugin-pyproject python3-all python3-setuptools \
python3-pytest lintian fakeroot dpkg-dev build-essential systemd"

case "${1:-}" in
    demo) want=$demo_pkgs ;;
    test) want="$test_pkgs $deb_pkgs" ;;
    deb) want=$deb_pkgs ;;
    *) echo "usage: $0 demo|test|deb" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    run=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    run="sudo"
else
    echo "These Debian packages are needed:$missing" >&2
    echo "Install them with: sudo apt-get install$missing" >&2
    exit 1
fi
echo "installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
$run apt-get update -qq
# shellcheck disable=SC2086
$run apt-get install -y -qq --no-install-recommends $missing

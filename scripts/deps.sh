#!/usr/bin/env bash
# Install what gotap needs to build and test, from Debian packages, only if
# missing.  Idempotent: a machine that has everything gets no apt-get call.
set -euo pipefail
need=()
have_pkgconf() { pkg-config --exists "$1" 2>/dev/null; }
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

have_cmd pkg-config || need+=(pkg-config)
have_cmd make || need+=(make)
have_cmd gcc || need+=(gcc)
have_cmd clang || need+=(clang)
have_pkg libclang-rt-14-dev || need+=(libclang-rt-14-dev)   # libFuzzer + sanitizer runtimes for clang
have_pkgconf libdw || need+=(libdw-dev)
have_pkgconf libelf || need+=(libelf-dev)
have_pkgconf jansson || need+=(libjansson-dev)
[ -e /usr/include/Zydis/Zydis.h ] || need+=(libzydis-dev)  # instruction decoder for step-over
have_cmd go || need+=(golang-go)
have_cmd gdb || need+=(gdb)
have_cmd gdbserver || need+=(gdbserver)       # side-by-side comparisons in the tests
have_cmd eu-readelf || need+=(elfutils)
have_cmd python3 || need+=(python3)           # tests parse JSON output
have_cmd ip || need+=(iproute2)
have_cmd unshare || need+=(util-linux)
have_cmd timeout || need+=(coreutils)

if [ ${#need[@]} -eq 0 ]; then
  echo "deps: all present"
  exit 0
fi
echo "deps: installing ${need[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"

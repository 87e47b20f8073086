#!/usr/bin/env bash
# Build the programs the tests run into $GOTAP_BUILD/targets (default build/targets):
#   tests/targets/go/NAME.go     -> NAME            (go build, DWARF kept)
#   tests/targets/c/NAME.c       -> NAME            (cc -g -O0 -pthread)
#   tests/targets/c/libNAME.c    -> libNAME.so      (shared library)
#   tests/targets/c/NAME.c whose first line is "// link: -lX ..." gets those flags.
# Only out-of-date outputs are rebuilt.  Usage: build.sh [NAME...] (default all).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${GOTAP_BUILD:-$root/build}/targets
mkdir -p "$out"; out=$(cd "$out" && pwd)   # absolute: go build runs in another dir
mkdir -p "$out"
export GOCACHE=${GOCACHE:-$root/build/gocache}
export GOFLAGS=${GOFLAGS:--buildvcs=false}
export GO111MODULE=off
names=("$@")
selected() {
  [ ${#names[@]} -eq 0 ] && return 0
  local n; for n in "${names[@]}"; do [ "$n" = "$1" ] && return 0; done; return 1
}
stale() { [ ! -e "$1" ] || [ "$2" -nt "$1" ]; }
# shared libraries first
for src in "$root"/tests/targets/c/lib*.c; do
  [ -e "$src" ] || continue
  n=$(basename "$src" .c)
  stale "$out/$n.so" "$src" && cc -g -O0 -fPIC -shared -o "$out/$n.so" "$src"
done
for src in "$root"/tests/targets/c/*.c; do
  [ -e "$src" ] || continue
  n=$(basename "$src" .c)
  case "$n" in lib*) continue ;; esac
  selected "$n" || continue
  flags=$(head -1 "$src" | sed -n 's|^// link: ||p')
  stale "$out/$n" "$src" && cc -g -O0 -pthread -o "$out/$n" "$src" -L"$out" -Wl,-rpath,"$out" $flags
done
for src in "$root"/tests/targets/go/*.go; do
  [ -e "$src" ] || continue
  n=$(basename "$src" .go)
  selected "$n" || continue
  stale "$out/$n" "$src" && (cd "$(dirname "$src")" && go build -o "$out/$n" "$(basename "$src")")
done
exit 0

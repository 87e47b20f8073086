#!/usr/bin/env bash
# demo.sh — what `make demo` runs: build the seed's example (examples/example.go)
# into build/example and run it under gotap, so a new user sees its stack
# growth events in the SystemTap script's format, then gotap's summary.
# Usage: scripts/demo.sh BINDIR   (BINDIR holds gotap and gotap-stub)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bindir=${1:?usage: scripts/demo.sh BINDIR}
bindir=$(cd "$bindir" && pwd)
for p in gotap gotap-stub; do
	[ -x "$bindir/$p" ] || { echo "demo: $bindir/$p is missing: run make first" >&2; exit 1; }
done
mkdir -p "$root/build"
export GOCACHE=${GOCACHE:-$root/build/gocache} GO111MODULE=off GOFLAGS=${GOFLAGS:--buildvcs=false}
(cd "$root/examples" && go build -o "$root/build/example" example.go)
echo "\$ gotap --summary -- build/example"
cd "$root"
exec "$bindir/gotap" --summary -- build/example

#!/usr/bin/env bash
# ana_errors.sh — gotap's clear errors: no such program, not a Go binary,
# stub unreachable (TCP and Unix socket), no gotap-stub, bad options; each
# exits non-zero with one "gotap: ..." line that says what is wrong.
. "$(dirname "$0")/ana_lib.bash"
ana_need_tools go
ana_build grow_recurse
R=$ANA_TARGETS/grow_recurse
T=$ANA_T

expect_err() {   # name, regexp, gotap args...
	local name=$1 re=$2; shift 2
	timeout -k 5 30 "$ANA_GOTAP" "$@" >"$T/$name.out" 2>"$T/$name.err"; local rc=$?
	if [ "$rc" -ne 0 ] && grep -Eq "$re" "$T/$name.err"; then ana_pass "errors.$name"
	else ana_fail "errors.$name" "exit $rc, expected a message matching /$re/" "$T/$name.err"; fi
}
expect_err no_program 'gotap: no such program: \./does-not-exist' -- ./does-not-exist
expect_err not_go 'not a Go binary' -- /bin/true
expect_err unreachable_tcp 'cannot reach the stub at 127\.0\.0\.1:1: .*refused' --remote 127.0.0.1:1 --binary "$R"
expect_err unreachable_unix 'cannot reach the stub at unix:' --remote "unix:$T/none.sock" --binary "$R"
GOTAP_STUB=$T/no-stub expect_err no_stub 'cannot find gotap-stub' -- "$R"
expect_err no_process 'no such process' --pid 2147483600
expect_err bad_format 'expected text, json or folded' --format xml -- "$R"
expect_err bad_every 'every' --every 0 -- "$R"
expect_err two_modes 'exactly one of' --pid 1 -- "$R"
# a stub that accepts and closes at once
python3 - "$T/port" <<'PY' &
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
c, _ = s.accept(); c.close()
PY
ppid=$!
ANA_PIDS+=("$ppid")
for i in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.05; done
expect_err stub_closed 'stub (closed the connection|did not answer)' --remote "127.0.0.1:$(cat "$T/port")" --binary "$R"
wait "$ppid" 2>/dev/null
"$ANA_GOTAP" --version >"$T/v.txt" 2>&1 && grep -q '^gotap ' "$T/v.txt" &&
	ana_pass errors.version || ana_fail errors.version "--version" "$T/v.txt"
"$ANA_GOTAP" --help >"$T/h.txt" 2>&1 && grep -q -- '--format' "$T/h.txt" &&
	ana_pass errors.help || ana_fail errors.help "--help" "$T/h.txt"
exit 0

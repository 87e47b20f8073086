#!/usr/bin/env bash
# ana_pid.sh — gotap --pid on a running program, then Ctrl-C (SIGINT) to
# gotap alone, or Ctrl-C to its process group (gotap and its stub): breakpoints
# come out, the stub detaches, gotap prints its summary and exits 0, and the
# program runs on to its normal output and exit status (3).
# Also --pid with --duration (detach at the deadline).
. "$(dirname "$0")/ana_lib.bash"
ana_need_tools go
ana_build grow_slow
S=$ANA_TARGETS/grow_slow
T=$ANA_T

if [ "$ANA_STUB" = gdbserver ]; then
	ana_skip pid "gotap --pid always starts gotap-stub --attach"
	exit 0
fi

run_attach() {   # name, gotap options...: attach, stop gotap, check the program
	local name=$1; shift
	"$S" >"$T/$name.prog" 2>&1 &
	local ppid=$!
	ANA_PIDS+=("$ppid")
	sleep 0.3
	# gotap in a session of its own, as in a terminal: "sigint" signals gotap
	# alone, "ctrl_c" its whole process group (gotap and its stub), as the
	# terminal's ^C does
	setsid "$ANA_GOTAP" --pid "$ppid" --summary "$@" >"$T/$name.txt" 2>"$T/$name.err" &
	local gpid=$!
	ANA_PIDS+=("$gpid")
	case "$name" in
	sigint) sleep 1; kill -INT "$gpid" ;;
	ctrl_c) sleep 1; kill -INT -- "-$gpid" ;;
	esac
	wait "$gpid"; local grc=$?
	wait "$ppid"; local prc=$?
	ANA_EVIDENCE=$T/$name.err ana_check "pid.$name.gotap_exit" "gotap exited $grc" [ "$grc" -eq 0 ]
	ANA_EVIDENCE=$T/$name.err ana_check "pid.$name.events" "no growth reported while attached" \
		grep -q '^runtime: newstack: ' "$T/$name.txt"
	ANA_EVIDENCE=$T/$name.err ana_check "pid.$name.summary" "no summary" grep -q '^gotap summary: ' "$T/$name.err"
	ANA_EVIDENCE=$T/$name.prog ana_check "pid.$name.program_output" "the program's output is missing" \
		grep -q '^grow_slow: finished 60 rounds' "$T/$name.prog"
	ANA_EVIDENCE=$T/$name.prog ana_check "pid.$name.program_status" "the program exited $prc, not 3" [ "$prc" -eq 3 ]
}
run_attach sigint
run_attach ctrl_c
run_attach duration --duration 1
exit 0

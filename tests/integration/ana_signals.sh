#!/usr/bin/env bash
# ana_signals.sh — a program analyzed by gotap still gets its signals: SIGUSR1
# passes through the stub without a stop (QPassSignals), SIGINT stops the
# program, reaches gotap, and gotap resumes it delivering the signal; the
# program's handlers see both, and the growths around them are reported.
. "$(dirname "$0")/ana_lib.bash"
ana_need_tools go
[ "$ANA_STUB" = gdbserver ] && ana_need_tools gdbserver
ana_build grow_signals
S=$ANA_TARGETS/grow_signals
T=$ANA_T
ana_gotap "$T/s.txt" "$T/s.err" -- "$S"; rc=$?
ANA_EVIDENCE=$T/s.err ana_check signals.runs "gotap exited $rc" [ "$rc" -eq 0 ]
ANA_EVIDENCE=$T/s.err ana_check signals.delivered "the program did not get SIGUSR1 and SIGINT" \
	grep -q '^grow_signals: usr1 int' "$T/s.err" "$T/s.txt"
n=$(ana_events "$T/s.txt")
ANA_EVIDENCE=$T/s.txt ana_check signals.events "no growth events ($n)" [ "$n" -ge 4 ]
exit 0

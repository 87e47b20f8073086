#!/usr/bin/env bash
# remote_attach_ns.sh — issue 8 (b): gotap-stub on the HOST attaches INTO a Go
# program that runs in other PID + mount namespaces (a "container" whose private
# tmpfs holds the only copy of the program).  Checked: the executable is
# resolved through /proc/PID/root (gdb and gotap read it with no local copy),
# paths are reported as the program sees them, and the PIDs/TIDs gdb and gotap
# show are the container's.
#
#   container: unshare --mount --pid --fork --mount-proc; tmpfs at …/app;
#              …/app/nsslow (grow_slow, ~3 s) running
#   host:      1. gotap --pid HOSTPID --format json         (gotap starts gotap-stub --attach)
#              2. gotap-stub --attach :PORT HOSTPID + gdb (no file, "target:" sysroot)
#              3. gotap-stub --attach :PORT HOSTPID + gotap --remote (no --binary: fetch)
#              4. sidecar: gotap-stub in the container's PID namespace, its own mount
#                 namespace (docker --pid=container:, kubectl debug --target) + gotap --remote
#   reference: gdb through gotap-stub on a local grow_slow.
. "$(dirname "$0")/remote_lib.bash"
rm_need
rm_build grow_slow
T=$RM_T
APP=$T/app
mkdir -p "$APP"
PROG=$APP/nsslow
REF=$RM_TARGETS/grow_slow

# start_container NAME: a fresh container running nsslow; sets HP (host pid),
# NP (its pid in the container), NTIDS (its thread ids as the container sees them).
start_container() {
	local name=$1
	rm_container "$T/$name.ctr" "
mount -t tmpfs -o size=64m,mode=755 gotap-ctr '$APP' || exit 1
cp '$REF' '$PROG' || exit 1
'$PROG' > '$T/$name.prog' 2>&1 &
echo NSSLOW-PID \$!
wait \$!
echo NSSLOW-EXITED \$?
"
	HP="" NP=""
	if rm_wait_for "$T/$name.ctr" '^NSSLOW-PID'; then
		local i
		for ((i = 0; i < 50; i++)); do
			HP=$(rm_host_pid nsslow) && break
			sleep 0.05
		done
	fi
	if [ -z "$HP" ]; then
		rm_fail "$name.container" "the program did not start in the container" "$T/$name.ctr"
		return 1
	fi
	NP=$(rm_ns_pid "$HP")
	sleep 0.3   # let it start its threads
	NTIDS=$(for s in /proc/"$HP"/task/*/status; do awk '/^NSpid:/ { print $NF }' "$s"; done | sort -n | tr '\n' ' ')
	return 0
}

# finish_container NAME: the program runs on to its own end (status 3).
finish_container() {
	local name=$1
	rm_wait_for "$T/$name.ctr" '^NSSLOW-EXITED' 100
	rm_check "$name.program_runs_on" "the program did not run on to its exit status 3" "$T/$name.ctr" \
		grep -q '^NSSLOW-EXITED 3$' "$T/$name.ctr"
}

rm_check host_has_no_copy "the program is visible outside the container" /dev/null test ! -e "$PROG"

# --- 1. gotap --pid -----------------------------------------------------------
if start_container pid; then
	timeout -k 5 60 "$RM_GOTAP" --pid "$HP" --max-events 5 --format json >"$T/pid.json" 2>"$T/pid.err"
	rc=$?
	rm_check pid.exit "gotap --pid exited $rc" "$T/pid.err" test "$rc" -eq 0
	rm_check pid.events "not 5 growths reported" "$T/pid.err" test "$(grep -c '"goid"' "$T/pid.json")" -eq 5
	rm_check pid.target_paths "frames do not name the program as the container sees it ($PROG)" "$T/pid.json" \
		bash -c "grep -o '\"module\": *\"[^\"]*\"' '$T/pid.json' | sort -u | grep -qx '\"module\": *\"$PROG\"'"
	jp=$(grep -o '"pid": *[0-9]*' "$T/pid.json" | grep -o '[0-9]*$' | sort -u | tr '\n' ' ')
	rm_check pid.container_pid "events say pid '$jp', the container's pid is $NP (host $HP)" "$T/pid.json" \
		test "$jp" = "$NP "
	jt=$(grep -o '"tid": *[0-9]*' "$T/pid.json" | grep -o '[0-9]*$' | sort -u)
	bad=""
	for t in $jt; do [[ " $NTIDS" == *" $t "* ]] || bad="$bad $t"; done
	rm_check pid.container_tids "events name thread(s)$bad, not among the container's: $NTIDS" "$T/pid.json" \
		test -n "$jt" -a -z "$bad"
	finish_container pid
fi

# --- 2. gdb through a host stub attached into the container --------------------
rm_gdb_bt "$T/local.gdb" "| $RM_STUB - $REF" "$REF"
rm_bt "$T/local.gdb" >"$T/local.bt"
if start_container gdb; then
	"$RM_STUB" --once --attach 127.0.0.1:0 "$HP" >"$T/gdb.stub" 2>&1 &
	RM_PIDS+=("$!")
	if rm_wait_for "$T/gdb.stub" 'Listening on port [0-9]+'; then
		port=$(sed -n 's/^Listening on port \([0-9]*\).*/\1/p' "$T/gdb.stub")
		RM_GDB_END=detach rm_gdb_bt "$T/gdb.gdb" "127.0.0.1:$port"
		rm_bt "$T/gdb.gdb" >"$T/gdb.bt"
		diff "$T/local.bt" "$T/gdb.bt" >"$T/gdb.diff"
		if [ ! -s "$T/gdb.bt" ]; then
			rm_fail gdb.same_bt "no backtrace (gdb could not read the program through the stub?)" "$T/gdb.gdb"
		else
			rm_check gdb.same_bt "gdb's bt differs from a local run" "$T/gdb.diff" test ! -s "$T/gdb.diff"
		fi
		rm_check gdb.target_path "gdb does not show the program as target:$PROG" "$T/gdb.gdb" \
			grep -Eq "^\* +1 +process .*target:$PROG *$" "$T/gdb.gdb"
		gp=$(sed -n 's/^\* *1 *process \([0-9]*\) .*/\1/p' "$T/gdb.gdb" | head -1)
		rm_check gdb.container_pid "gdb shows process '${gp:-none}', the container's pid is $NP (host $HP)" \
			"$T/gdb.gdb" test "$gp" = "$NP"
		# "Thread P.T" (or LWP T) in `info threads`
		gt=$(grep -Eo '(Thread [0-9]+\.|LWP )[0-9]+' "$T/gdb.gdb" | grep -Eo '[0-9]+$' | sort -u)
		bad=""
		for t in $gt; do [[ " $NTIDS" == *" $t "* ]] || bad="$bad $t"; done
		rm_check gdb.container_tids "gdb shows thread(s)$bad, not among the container's: $NTIDS" "$T/gdb.gdb" \
			test -n "$gt" -a -z "$bad"
	else
		rm_fail gdb.stub "gotap-stub --attach did not start" "$T/gdb.stub"
	fi
	finish_container gdb
fi

# --- 3. gotap --remote to a host stub attached into the container: fetch ------
if start_container fetch; then
	"$RM_STUB" --once --attach 127.0.0.1:0 "$HP" >"$T/fetch.stub" 2>&1 &
	RM_PIDS+=("$!")
	if rm_wait_for "$T/fetch.stub" 'Listening on port [0-9]+'; then
		port=$(sed -n 's/^Listening on port \([0-9]*\).*/\1/p' "$T/fetch.stub")
		XDG_CACHE_HOME=$T/cache-fetch timeout -k 5 60 "$RM_GOTAP" --remote "127.0.0.1:$port" --max-events 5 >"$T/fetch.txt" 2>"$T/fetch.err"
		rc=$?
		rm_check fetch.exit "gotap --remote exited $rc" "$T/fetch.err" test "$rc" -eq 0
		rm_check fetch.fetched "gotap did not fetch $PROG through the stub" "$T/fetch.err" \
			grep -q "^gotap: fetched $PROG from the stub" "$T/fetch.err"
		rm_check fetch.events "not 5 growths reported" "$T/fetch.err" \
			test "$(grep -c '^runtime: newstack: ' "$T/fetch.txt")" -eq 5
		rm_modules "$T/fetch.txt" >"$T/fetch.modules"
		rm_check fetch.target_paths "frames do not name $PROG" "$T/fetch.modules" \
			test "$(cat "$T/fetch.modules")" = "$PROG"
	else
		rm_fail fetch.stub "gotap-stub --attach did not start" "$T/fetch.stub"
	fi
	finish_container fetch
fi
# --- 4. a "sidecar": the stub in the container's PID namespace but its own mount
# namespace (docker run --pid=container:APP, kubectl debug --target=APP) -------
if start_container side; then
	nsenter --target "$HP" --pid -- unshare --mount --fork --kill-child --mount-proc --propagation private \
		"$RM_STUB" --once --attach 127.0.0.1:0 "$NP" >"$T/side.stub" 2>&1 &
	RM_PIDS+=("$!")
	if rm_wait_for "$T/side.stub" 'Listening on port [0-9]+'; then
		port=$(sed -n 's/^Listening on port \([0-9]*\).*/\1/p' "$T/side.stub")
		XDG_CACHE_HOME=$T/cache-side timeout -k 5 60 "$RM_GOTAP" --remote "127.0.0.1:$port" --max-events 5 \
			--format json >"$T/side.json" 2>"$T/side.err"
		rc=$?
		rm_check side.exit "gotap --remote exited $rc" "$T/side.err" test "$rc" -eq 0
		rm_check side.fetched "gotap did not fetch $PROG through the sidecar stub" "$T/side.err" \
			grep -q "^gotap: fetched $PROG from the stub" "$T/side.err"
		rm_check side.events "not 5 growths reported" "$T/side.err" test "$(grep -c '"goid"' "$T/side.json")" -eq 5
		jp=$(grep -o '"pid": *[0-9]*' "$T/side.json" | grep -o '[0-9]*$' | sort -u | tr '\n' ' ')
		rm_check side.container_pid "events say pid '$jp', the container's pid is $NP" "$T/side.json" \
			test "$jp" = "$NP "
	else
		rm_fail side.stub "gotap-stub --attach (sidecar) did not start" "$T/side.stub"
	fi
	finish_container side
fi
exit 0

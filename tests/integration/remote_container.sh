#!/usr/bin/env bash
# remote_container.sh — issue 8 (a): the Go program and gotap-stub run in a
# "container" (new PID + mount namespaces, a private tmpfs holding the only copy
# of the program, its own network namespace reached over a veth pair); gotap and
# gdb run in the root namespace with NO copy of the binary and get the same
# growth report and the same `bt` as a local run.
#
#   container: /…/app/ctrprog (tmpfs, only in the container's mount namespace)
#              gotap-stub --once 10.200.N.2:2345 ctrprog   (gotap, fetches the binary)
#              gotap-stub --once 10.200.N.2:2346 ctrprog   (gotap again: from the cache)
#              gotap-stub --once 10.200.N.2:2347 ctrprog   (gdb, "target:" sysroot)
#              ctrprog (grow_slow) running + gotap-stub --attach 10.200.N.2:2348 PID
#   "scratch": a chroot with only /app/server, /proc and the gotap-stub bundle (FROM scratch)
#   host:      gotap --remote 10.200.N.2:PORT, gdb -ex 'target remote 10.200.N.2:2347'
#   reference: gotap -- build/targets/grow_recurse, gdb through gotap-stub locally.
. "$(dirname "$0")/remote_lib.bash"
rm_need net
rm_build grow_recurse grow_slow
T=$RM_T
APP=$T/app                 # the container's private tmpfs (empty on the host)
mkdir -p "$APP"
PROG=$APP/ctrprog          # the path as the container sees it
REF=$RM_TARGETS/grow_recurse

# --- the container ------------------------------------------------------
rm_container "$T/ctr.log" net "
set -u
mount -t tmpfs -o size=64m,mode=755 gotap-ctr '$APP' || exit 1
cp '$REF' '$PROG' && cp '$RM_TARGETS/grow_slow' '$APP/ctrslow' || exit 1
echo CONTAINER-READY
for port in 2345 2346 2347; do
	'$RM_STUB' --once $RM_CTR_IP:\$port '$PROG'
	echo STUB-\$port-EXITED \$?
done
'$APP/ctrslow' > '$T/slow.out' 2>&1 &
slow=\$!
sleep 0.3
echo SLOW-PID \$slow
'$RM_STUB' --once --attach $RM_CTR_IP:2348 \$slow
echo STUB-2348-EXITED \$?
wait \$slow
echo SLOW-EXITED \$?
"
if ! rm_wait_for "$T/ctr.log" 'Listening on port 2345'; then
	rm_fail container "the stub in the container did not start" "$T/ctr.log"
	exit 1
fi
rm_check binary_only_in_container "the program is visible outside the container" "$T/ctr.log" \
	test ! -e "$PROG"

# --- local reference runs --------------------------------------------------
timeout -k 5 120 "$RM_GOTAP" -- "$REF" >"$T/local.txt" 2>"$T/local.err"
rm_gdb_bt "$T/local.gdb" "| $RM_STUB - $REF" "$REF"

# --- gotap from the root namespace, no --binary, no local copy -----------
timeout -k 5 120 "$RM_GOTAP" --remote "$RM_CTR_IP:2345" >"$T/remote.txt" 2>"$T/remote.err"
rc=$?
rm_check gotap.exit "gotap --remote exited $rc" "$T/remote.err" test "$rc" -eq 0
rm_check gotap.fetched "gotap did not say it fetched $PROG" "$T/remote.err" \
	grep -q "^gotap: fetched $PROG from the stub (.* bytes .*build ID go .*) into $T/cache/gotap/.*/ctrprog\$" "$T/remote.err"
cached=$(ls "$T"/cache/gotap/*/ctrprog 2>/dev/null | head -1)
rm_check gotap.cached "nothing in $T/cache/gotap/<build-id>/ctrprog" "$T/remote.err" \
	cmp -s "${cached:-/nonexistent}" "$REF"
n=$(grep -c '^runtime: newstack: ' "$T/remote.txt")
rm_check gotap.events "no growth reported" "$T/remote.err" test "$n" -gt 0
# Compared: every event's sizes and every frame's pc, function+offset, file:line.
# Not compared: the module column (the local path vs the container's) and goroutine
# ids (the runtime numbers its own background goroutines first, and how many it has
# started by then varies by one from run to run in the container).
norm() { rm_strip_module "$1" | sed 's/(goroutine [0-9]*)$/(goroutine N)/'; }
norm "$T/local.txt" >"$T/local.norm"
norm "$T/remote.txt" >"$T/remote.norm"
diff "$T/local.norm" "$T/remote.norm" >"$T/report.diff"
rm_check gotap.same_report "the report differs from a local run ($n events; functions, files, lines)" \
	"$T/report.diff" test ! -s "$T/report.diff"
rm_modules "$T/remote.txt" >"$T/remote.modules"
rm_check gotap.target_paths "frames do not name the executable as the container sees it ($PROG)" \
	"$T/remote.modules" test "$(cat "$T/remote.modules")" = "$PROG"

# --- again: the cache answers, nothing is fetched --------------------------
rm_wait_for "$T/ctr.log" 'Listening on port 2346' || rm_fail cache "no second stub" "$T/ctr.log"
timeout -k 5 120 "$RM_GOTAP" --remote "$RM_CTR_IP:2346" --max-events 3 >"$T/again.txt" 2>"$T/again.err"
rm_check gotap.cache_hit "the second run did not use the cache" "$T/again.err" \
	grep -q "^gotap: using $T/cache/gotap/.*/ctrprog (cached copy of the target's $PROG" "$T/again.err"
rm_check gotap.cache_no_fetch "the second run fetched again" "$T/again.err" \
	bash -c "! grep -q 'fetched' '$T/again.err'"

# --- gdb from the root namespace, default "target:" sysroot -----------------
rm_wait_for "$T/ctr.log" 'Listening on port 2347' || rm_fail gdb "no third stub" "$T/ctr.log"
rm_gdb_bt "$T/remote.gdb" "$RM_CTR_IP:2347"
rm_bt "$T/local.gdb" >"$T/local.bt"
rm_bt "$T/remote.gdb" >"$T/remote.bt"
diff "$T/local.bt" "$T/remote.bt" >"$T/bt.diff"
if [ ! -s "$T/remote.bt" ]; then
	rm_fail gdb.same_bt "no backtrace from gdb over the veth link" "$T/remote.gdb"
else
	rm_check gdb.same_bt "gdb's bt differs from a local run" "$T/bt.diff" test ! -s "$T/bt.diff"
fi
rm_check gdb.target_sysroot "gdb did not read the executable through the stub (target:$PROG)" \
	"$T/remote.gdb" grep -Eq "^\* +1 +process .*target:$PROG *$" "$T/remote.gdb"
# pid: what gdb shows is what the container shows (the stub's "pid = N" there)
gpid=$(sed -n 's/^\* *1 *process \([0-9]*\) .*/\1/p' "$T/remote.gdb" | head -1)
cpid=$(sed -n "s|^Process $PROG created; pid = \([0-9]*\)\$|\1|p" "$T/ctr.log" | tail -1)
rm_check gdb.container_pid "gdb shows pid '${gpid:-none}', the container '${cpid:-none}'" "$T/remote.gdb" \
	test -n "$gpid" -a "$gpid" = "$cpid"

# --- attach inside the container --------------------------------------------
if rm_wait_for "$T/ctr.log" 'Listening on port 2348'; then
	timeout -k 5 60 "$RM_GOTAP" --remote "$RM_CTR_IP:2348" --max-events 5 >"$T/attach.txt" 2>"$T/attach.err"
	rc=$?
	rm_check attach.exit "gotap --remote (stub --attach in the container) exited $rc" "$T/attach.err" \
		test "$rc" -eq 0
	rm_check attach.events "no growth reported" "$T/attach.err" \
		test "$(grep -c '^runtime: newstack: ' "$T/attach.txt")" -eq 5
	rm_check attach.fetched_or_cached "gotap did not fetch $APP/ctrslow" "$T/attach.err" \
		grep -q "^gotap: fetched $APP/ctrslow from the stub" "$T/attach.err"
	rm_check attach.frames "frames do not show main.recurse in $APP/ctrslow" "$T/attach.txt" \
		grep -q "main\.recurse+0x[0-9a-f]*/0x[0-9a-f]* at .*grow_slow\.go:[0-9]* \[$APP/ctrslow\]\$" "$T/attach.txt"
	rm_wait_for "$T/ctr.log" '^SLOW-EXITED' 100
	rm_check attach.program_runs_on "the attached program did not run on to its exit status 3" "$T/ctr.log" \
		grep -q '^SLOW-EXITED 3$' "$T/ctr.log"
else
	rm_fail attach "the --attach stub in the container did not start" "$T/ctr.log"
fi
# --- a "FROM scratch" image: a root holding only the program, /proc and a
# self-contained gotap-stub bundle (the stub and the shared libraries ldd names,
# under /gotap, started through the bundled loader): no libc of the image is used,
# as in docs/REMOTE.md ---------------------------------------------------------
SROOT=$T/scratch
mkdir -p "$SROOT/proc" "$SROOT/app" "$SROOT/gotap"
cp "$REF" "$SROOT/app/server"
cp "$RM_STUB" "$SROOT/gotap/gotap-stub"
libs=$(ldd "$RM_STUB" | grep -o '/[^ ]*' | sort -u)
loader=$(ldd "$RM_STUB" | grep -o '/[^ ]*ld-linux[^ ]*' | head -1)
libdirs=""
for l in $libs; do
	mkdir -p "$SROOT/gotap$(dirname "$l")"
	cp -L "$l" "$SROOT/gotap$l"
	libdirs="$libdirs${libdirs:+:}/gotap$(dirname "$l")"
done
if [ -z "$loader" ]; then
	rm_skip scratch "ldd names no dynamic loader for gotap-stub"
else
	rm_container "$T/scratch.log" net "
mount -t proc proc '$SROOT/proc' || exit 1
exec chroot '$SROOT' /gotap$loader --library-path '$libdirs' /gotap/gotap-stub --once $RM_CTR_IP:2350 /app/server
"
	if rm_wait_for "$T/scratch.log" 'Listening on port 2350'; then
		XDG_CACHE_HOME=$T/cache-scratch timeout -k 5 120 "$RM_GOTAP" --remote "$RM_CTR_IP:2350" \
			>"$T/scratch.txt" 2>"$T/scratch.err"
		rc=$?
		rm_check scratch.exit "gotap --remote exited $rc" "$T/scratch.err" test "$rc" -eq 0
		rm_check scratch.fetched "gotap did not fetch /app/server" "$T/scratch.err" \
			grep -q "^gotap: fetched /app/server from the stub" "$T/scratch.err"
		norm "$T/scratch.txt" >"$T/scratch.norm"
		diff "$T/local.norm" "$T/scratch.norm" >"$T/scratch.diff"
		rm_check scratch.same_report "the report differs from a local run" "$T/scratch.diff" \
			test ! -s "$T/scratch.diff"
	else
		rm_fail scratch "the bundled stub in the scratch root did not start" "$T/scratch.log"
	fi
fi
exit 0

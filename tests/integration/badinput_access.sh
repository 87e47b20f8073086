#!/usr/bin/env bash
# badinput_access: what a client can reach (issue 7, item 5).
#   tcp.loopback-only     `:0` listens on 127.0.0.1 only (/proc/net/tcp; nothing in tcp6)
#   tcp.named-any         `0.0.0.0:0` listens on every interface (the address was named)
#   unix.mode-0600        `unix:PATH` is created 0600 even under umask 000
#   vrun.*                vRun is refused without --multi; the process is kept
#   vfile.*               without --allow-host-io vFile serves the program's executable,
#                         its mapped files and /proc/PID entries, and refuses /etc/passwd,
#                         /proc/PID/root/..., /proc/PID/cwd/..., '..' tricks, the stub's
#                         own /proc/self, a symlink to another file, and write access;
#                         with --allow-host-io any file is served.
. "$(dirname "$0")/../lib/common.sh"
gt_init badinput_access fault_prog
STUB=$GOTAP_BIN/gotap-stub
PROG=$GT_TARGETS/fault_prog
command -v python3 >/dev/null || { gt_skip badinput_access "python3 not installed"; exit 0; }
[ -x "$STUB" ] || { gt_fail badinput_access "no stub at $STUB"; exit 1; }

# the raw RSP client the python parts import (tests/lib/rsp.py)
cp "$(dirname "$0")/../lib/rsp.py" "$GT_T/rsp.py"

cat >"$GT_T/access.py" <<'PYEOF'
# access.py ADDR PID EXE hostio|nohostio TMPDIR: what a connected client may reach.
import os, re, sys
from rsp import Rsp
addr, pid, exe, mode, tmp = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
r = Rsp(addr, timeout=15)
def ok(n): print('PASS: %s' % n); sys.stdout.flush()
def bad(n, why): print('FAIL: %s: %s' % (n, why)); sys.stdout.flush()
r.cmd('qSupported:multiprocess+'); r.cmd('QStartNoAckMode'); r.noack = True
def vopen(path):
    return r.cmd('vFile:open:%s,0,0' % path.encode().hex())
def vread(path, n=64):
    rep = vopen(path)
    m = re.fullmatch(rb'F([0-9a-f]+)', rep)
    if not m: return rep, None
    fd = m.group(1).decode()
    data = r.cmd('vFile:pread:%s,%x,0' % (fd, n))
    r.cmd('vFile:close:%s' % fd)
    mm = re.match(rb'F([0-9a-f]+);', data, re.S)
    return rep, data[mm.end():] if mm else None
def refused(rep): return re.fullmatch(rb'F-1,[0-9a-f]+', rep) is not None
if mode == 'nohostio':
    rep = r.cmd('!'); rep = r.cmd('vRun;' + exe.encode().hex())
    if re.fullmatch(rb'E[0-9a-f]{2}|E\..*', rep, re.S): ok('vrun.refused-without-multi')
    else: bad('vrun.refused-without-multi', 'vRun answered %r' % rep[:60])
    rep = r.cmd('qAttached'); rep2 = r.cmd('?')
    if rep2.startswith(b'T') and ('p%x.' % pid).encode() in rep2: ok('vrun.process-kept')
    else: bad('vrun.process-kept', 'after vRun: ? answered %r' % rep2[:60])
    # the target's own files are served
    rep, data = vread(exe)
    if data is not None and data == open(exe, 'rb').read(len(data)) and data: ok('vfile.own-exe')
    else: bad('vfile.own-exe', 'open %r data %r' % (rep, data and data[:16]))
    rep, data = vread('/proc/%d/maps' % pid)
    if data: ok('vfile.own-proc-maps')
    else: bad('vfile.own-proc-maps', 'open %r' % rep)
    libc = next((l.split()[5] for l in open('/proc/%d/maps' % pid) if '.so' in l and l.split()[5:]), None)
    if libc:
        rep, data = vread(libc)
        if data: ok('vfile.mapped-lib')
        else: bad('vfile.mapped-lib', 'open %s: %r' % (libc, rep))
    # anything else is not
    link = os.path.join(tmp, 'exe-lookalike')
    for n, p in [('etc-passwd', '/etc/passwd'),
                 ('proc-root', '/proc/%d/root/etc/passwd' % pid),
                 ('proc-task-root', '/proc/%d/task/%d/root/etc/passwd' % (pid, pid)),
                 ('proc-cwd', '/proc/%d/cwd/secret' % pid),
                 ('proc-dotdot', '/proc/%d/../self/root/etc/passwd' % pid),
                 ('proc-self-root', '/proc/self/root/etc/passwd'),
                 ('stub-environ', '/proc/self/environ'),
                 ('symlink', link)]:
        rep = vopen(p)
        if refused(rep): ok('vfile.refused.' + n)
        else:
            bad('vfile.refused.' + n, '%s opened without --allow-host-io: %r' % (p, rep))
            m = re.fullmatch(rb'F([0-9a-f]+)', rep)
            if m: r.cmd('vFile:close:%s' % m.group(1).decode())
    # write access is never given
    rep = r.cmd('vFile:open:%s,1,0' % exe.encode().hex())
    if refused(rep): ok('vfile.no-write')
    else: bad('vfile.no-write', 'open for writing answered %r' % rep)
else:
    rep, data = vread('/etc/passwd')
    if data is not None and data == open('/etc/passwd', 'rb').read(len(data)) and data: ok('vfile.allow-host-io')
    else: bad('vfile.allow-host-io', '/etc/passwd with --allow-host-io: %r' % rep)
r.cut('close')
PYEOF

start_stub() {
	local tag=$1; shift
	gt_spawn "$GT_T/$tag.out" "$GT_T/$tag.err" "$STUB" "$@"
	SPID=$GT_PID
	gt_wait_file "$GT_T/$tag.err" '^Listening on' 20 || { gt_fail "$tag.setup" "stub did not listen" "$GT_T/$tag.err"; return 1; }
	PORT=$(sed -n 's/^Listening on port \([0-9]*\).*/\1/p' "$GT_T/$tag.err" | head -n 1)
	TPID=$(sed -n 's/^Process .* created; pid = \([0-9]*\).*/\1/p' "$GT_T/$tag.err" | head -n 1)
}
stop_stub() { kill -TERM "$SPID" 2>/dev/null; gt_wait_pid "$SPID" 10; gt_kill_sessions "$SPID"; }
# listeners PORT: "ADDR" of every listening TCP socket (state 0A) on PORT, v4 and v6.
listeners() {
	local hexport
	hexport=$(printf '%04X' "$1")
	awk -v p="$hexport" '$4 == "0A" { split($2, a, ":"); if (a[2] == p) print FILENAME ":" a[1] }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# --- TCP: loopback unless an address is named
if start_stub tcp --once :0 "$PROG"; then
	l=$(listeners "$PORT")
	if [ "$l" = "/proc/net/tcp:0100007F" ]; then gt_pass tcp.loopback-only; else
		echo "${l:-no listener}" >"$GT_T/ev"; gt_fail tcp.loopback-only "':0' listens on: $(echo $l)" "$GT_T/ev"
	fi
	stop_stub
fi
if start_stub tcpany --once 0.0.0.0:0 "$PROG"; then
	l=$(listeners "$PORT")
	if [ "$l" = "/proc/net/tcp:00000000" ]; then gt_pass tcp.named-any; else gt_fail tcp.named-any "'0.0.0.0:0' listens on: ${l:-nothing}"; fi
	stop_stub
fi

# --- Unix socket: 0600 whatever the umask
sock=$GT_T/stub.sock
(umask 000; exec setsid "$STUB" --once "unix:$sock" "$PROG" </dev/null >"$GT_T/unix.out" 2>"$GT_T/unix.err") &
SPID=$!
GT_SIDS+=("$SPID")
n=200; while [ ! -S "$sock" ] && [ "$n" -gt 0 ]; do sleep 0.05; n=$((n - 1)); done
mode=$(stat -c %a "$sock" 2>/dev/null)
if [ "$mode" = 600 ]; then gt_pass unix.mode-0600; else gt_fail unix.mode-0600 "socket mode '${mode:-no socket}' under umask 000"; fi
stop_stub

# --- vRun without --multi; vFile without and with --allow-host-io
mkdir -p "$GT_T/cwd"
echo secret >"$GT_T/cwd/secret"
ln -s /etc/passwd "$GT_T/cwd/exe-lookalike"
if (cd "$GT_T/cwd" && start_stub nohostio --once :0 "$PROG" && echo "$SPID $PORT $TPID" >"$GT_T/ids"); then
	read -r SPID PORT TPID <"$GT_T/ids"
	GT_SIDS+=("$SPID")
	(cd "$GT_T" && timeout 60 python3 access.py "127.0.0.1:$PORT" "$TPID" "$PROG" nohostio "$GT_T/cwd") >"$GT_T/nohostio.log" 2>&1
	rc=$?
	grep -E '^(PASS|FAIL|SKIP): ' "$GT_T/nohostio.log"
	[ "$rc" = 0 ] || gt_fail access.client "the client failed (status $rc)" "$GT_T/nohostio.log"
	stop_stub
fi
if start_stub hostio --once --allow-host-io :0 "$PROG"; then
	(cd "$GT_T" && timeout 60 python3 access.py "127.0.0.1:$PORT" "$TPID" "$PROG" hostio "$GT_T/cwd") >"$GT_T/hostio.log" 2>&1
	rc=$?
	grep -E '^(PASS|FAIL|SKIP): ' "$GT_T/hostio.log"
	[ "$rc" = 0 ] || gt_fail access.client-hostio "the client failed (status $rc)" "$GT_T/hostio.log"
	stop_stub
fi
exit 0

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

cat >"$GT_T/rsp.py" <<'PYEOF'
# rsp.py — a small raw RSP client for the fault/bad-input tests.
import os, socket, struct, subprocess, sys, time

def csum(b):
    return sum(b) & 0xff

def frame(payload):
    if isinstance(payload, str):
        payload = payload.encode('latin-1')
    return b'$' + payload + b'#' + ('%02x' % csum(payload)).encode()

class Rsp:
    def __init__(self, addr, timeout=20):
        if addr.startswith('unix:'):
            self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.s.connect(addr[5:])
        else:
            host, port = addr.rsplit(':', 1)
            self.s = socket.create_connection((host or '127.0.0.1', int(port)))
        self.s.settimeout(timeout)
        self.buf = b''
        self.noack = False
        self.acks = []

    def _fill(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError('stub closed the connection')
        self.buf += d

    def read_packet(self):
        """Next packet payload (bytes); acks seen on the way go to self.acks."""
        while True:
            while self.buf[:1] in (b'+', b'-'):
                self.acks.append(self.buf[:1]); self.buf = self.buf[1:]
            i = self.buf.find(b'$')
            if i >= 0:
                for c in self.buf[:i]:
                    if c in b'+-':
                        self.acks.append(bytes([c]))
                j = self.buf.find(b'#', i)
                if j >= 0 and len(self.buf) >= j + 3:
                    p = self.buf[i + 1:j]
                    self.buf = self.buf[j + 3:]
                    if not self.noack:
                        self.s.sendall(b'+')
                    return rle_decode(p)
            self._fill()

    def read_ack(self):
        while not self.buf:
            self._fill()
        c = self.buf[:1]; self.buf = self.buf[1:]
        return c

    def send_raw(self, b):
        self.s.sendall(b)

    def send(self, payload):
        self.s.sendall(frame(payload))
        if not self.noack:
            a = self.read_ack()
            if a != b'+':
                raise RuntimeError('no ack for %r: %r' % (payload[:40], a))

    def cmd(self, payload):
        self.send(payload)
        return self.read_packet()

    def cut(self, how):
        if how == 'reset':
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        self.s.close()

def rle_decode(p):
    out = bytearray(); i = 0
    while i < len(p):
        c = p[i]
        if c == ord('*') and out:
            n = p[i + 1] - 29
            out += bytes([out[-1]]) * n
            i += 2
        elif c == ord('}'):
            out.append(p[i + 1] ^ 0x20); i += 2
        else:
            out.append(c); i += 1
    return bytes(out)

def exe_base(pid, exe):
    exe = os.path.realpath(exe)
    with open('/proc/%d/maps' % pid) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and parts[5] == exe and int(parts[2], 16) == 0:
                return int(parts[0].split('-')[0], 16)
    raise RuntimeError('no mapping of %s in %d' % (exe, pid))

def symbols(exe):
    out = subprocess.run(['nm', exe], capture_output=True, text=True, check=True).stdout
    syms = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3:
            syms[f[2]] = int(f[0], 16)
    return syms

def addr_of(pid, exe, name):
    # PIE: runtime address = first mapping + symbol value
    return exe_base(pid, exe) + symbols(exe)[name]

def text_check(pid):
    """Compare every executable file-backed mapping with the file's bytes.
    Returns a list of differences (empty: intact)."""
    diffs = []
    with open('/proc/%d/maps' % pid) as f:
        maps = f.read().splitlines()
    mem = open('/proc/%d/mem' % pid, 'rb', buffering=0)
    for line in maps:
        parts = line.split()
        if len(parts) < 6 or 'x' not in parts[1] or not parts[5].startswith('/'):
            continue
        path = parts[5]
        if not os.path.isfile(path):
            continue
        lo, hi = (int(x, 16) for x in parts[0].split('-'))
        off = int(parts[2], 16)
        with open(path, 'rb') as fb:
            fb.seek(off)
            want = fb.read(hi - lo)
        mem.seek(lo)
        got = mem.read(len(want))
        if got != want:
            n = sum(1 for a, b in zip(got, want) if a != b)
            first = next(i for i, (a, b) in enumerate(zip(got, want)) if a != b) if n else len(got)
            diffs.append('%s: %d bytes differ, first at 0x%x (mem %02x file %02x)' % (
                path, n, lo + first, got[first] if first < len(got) else -1,
                want[first] if first < len(want) else -1))
    return diffs

if __name__ == '__main__' and len(sys.argv) > 1 and sys.argv[1] == 'textcheck':
    d = text_check(int(sys.argv[2]))
    print('\n'.join(d) if d else 'intact')
    sys.exit(1 if d else 0)
PYEOF

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

#!/usr/bin/env bash
# stub_nonstop: non-stop mode (GDB manual "Remote Non-Stop"), against gdbserver and
# gotap-stub alike, with gdb `set non-stop on` + `target extended-remote`
# (tests/targets/c/ns_prog.c: three workers; worker1 calls point_a, worker2 calls
# point_b once gdb sets g_release_b, everyone spins until g_stop):
#   c_ns      break point_a: only worker1 stops, `info threads` shows the others
#             (running); memory written while they run (g_release_b), worker1
#             continued, worker2 hits point_b; `thread 3` + bt; `continue -a` after
#             g_stop=1: the process exit is reported
#   c_detach  detach in non-stop while threads run: the program ends on its own
#   c_kill    kill in non-stop while threads run: the process is gone
#   c_signal  gtcprog raises SIGUSR1: reported, then detach: the handler runs
#   mi_int    `interrupt -a` stops the three running threads (signal 0, "Thread N
#             stopped."), all shown stopped, `thread 4` + bt; `continue -a` +
#             `interrupt -a`: four stops; the exit (through gdb's MI, so that the
#             script waits for the stops it expects)
#   go_ns     goroutines.go: break main.checkpoint; the other threads (running);
#             bt of the stopped one; the breakpoint removed, `continue -a` to the end
#   raw-ack / raw-noack   the packets themselves (gotap-stub only, tests/lib/rsp.py),
#             in ack and no-ack mode: QNonStop:1, vCont;c -> OK, %Stop notification,
#             vStopped -> OK, m/M/qfThreadInfo/T while threads run, g of a running
#             thread -> E, a second breakpoint stop while the first thread stays
#             stopped, vCont;t -> T00, '?' -> every stopped thread, exit -> %Stop:W
. "$(dirname "$0")/../lib/common.sh"
gt_init stub_nonstop ns_prog gtcprog goroutines

NS_PROG=$GT_TARGETS/ns_prog

# what the user reads from the first stop on, thread ids masked
ns_user() {
	sed -n '/^@@info1/,$p' | grep -Ev '^(\[Switching|\[New Thread|\[Thread .* exited|Child exited|$)' |
		gt_norm | sed -E 's/Thread [0-9]+\.[0-9]+/Thread TH/g; s/ {2,}/ /g'   # columns widen with the ids' digits
}
ns_user_all() { grep -E '^(@@|Thread [0-9]+ ".*" hit|\[Inferior)' | gt_norm; }

# ---- a breakpoint in one thread, the others run
c_ns() {
	gt_stub_start "$1" c_ns --once :0 "$NS_PROG" || return
	gt_gdb "$1" c_ns "$NS_PROG" <<EOF
set non-stop on
target extended-remote $GT_ADDR
break point_a
continue
echo @@info1\n
info threads
break point_b
set var g_release_b = 1
echo @@second\n
thread 2
continue
echo @@info2\n
info threads
echo @@bt3\n
thread 3
bt
echo @@end\n
set var g_stop = 1
continue -a
echo @@after\n
info threads
EOF
	gt_stub_wait "$1" c_ns
}
gt_each c_ns
gt_has c_ns hit-a '^Thread 2 "worker1" hit Breakpoint 1, point_a \(id=1\) at .*ns_prog\.c:[0-9]+$'
chk_running1() {
	local t
	t=$(sed -n '/^@@info1/,/^@@second/p' "$(gt_f "$1" "$2" gdb)")
	echo "$t" | grep -Eq '^ +2 +Thread [0-9]+\.[0-9]+ "worker1" +point_a \(id=1\)' || { echo "thread 2 not shown stopped at point_a"; return 1; }
	[ "$(echo "$t" | grep -Ec '^[* ] +[134] +Thread [0-9]+\.[0-9]+ "(ns_prog|worker[23])" +\(running\)$')" = 3 ] ||
		{ echo "threads 1, 3, 4 not all shown (running)"; return 1; }
}
gt_check c_ns info-running chk_running1
gt_has c_ns hit-b '^Thread 3 "worker2" hit Breakpoint 2, point_b \(id=2\) at .*ns_prog\.c:[0-9]+$'
gt_has c_ns info-b '^ +3 +Thread [0-9]+\.[0-9]+ "worker2" +point_b \(id=2\)'
gt_has c_ns bt3 '^#1 +0x[0-9a-f]+ in worker \(arg=0x2\) at .*ns_prog\.c:[0-9]+$'
gt_has c_ns exit '^\[Inferior 1 \(process [0-9]+\) exited normally\]$'
gt_has c_ns no-threads '^No threads\.$'
gt_has c_ns output '^ns_prog: done a=1 b=1$' out
gt_hasnt c_ns errors '(Remote failure|Remote connection closed|Cannot execute|Packet received: E)'
gt_same c_ns user-lines ns_user

# ---- detach while threads run: breakpoints out, the program ends on its own
c_detach() {
	gt_stub_start "$1" c_detach --once :0 "$NS_PROG" || return
	gt_gdb "$1" c_detach "$NS_PROG" <<EOF
set non-stop on
target extended-remote $GT_ADDR
break point_a
break point_b
continue
set var g_stop = 1
echo @@detach\n
detach
echo @@end\n
EOF
	gt_stub_wait "$1" c_detach
	gt_wait_file "$(gt_f "$1" c_detach out)" '^ns_prog: done' 15
}
gt_each c_detach
gt_has c_detach hit '^Thread 2 "worker1" hit Breakpoint 1, point_a \(id=1\)'
gt_has c_detach detached '^\[Inferior 1 \(process [0-9]+\) detached\]$'
gt_has c_detach output '^ns_prog: done a=1 b=0$' out
gt_hasnt c_detach no-trap 'Trace/breakpoint trap|core dumped' out
gt_same c_detach user-lines ns_user_all

# ---- kill while threads run
c_kill() {
	gt_stub_start "$1" c_kill --once :0 "$NS_PROG" || return
	local pid=$GT_INF_PID
	gt_gdb "$1" c_kill "$NS_PROG" <<EOF
set non-stop on
target extended-remote $GT_ADDR
break point_a
continue
echo @@kill\n
kill
echo @@after\n
info threads
EOF
	gt_stub_stop
	if gt_wait_gone "$pid" 10; then echo gone; else echo alive; fi >"$(gt_f "$1" c_kill gone)"
}
gt_each c_kill
gt_has c_kill hit '^Thread 2 "worker1" hit Breakpoint 1, point_a \(id=1\)'
gt_has c_kill killed '^\[Inferior 1 \(process [0-9]+\) killed\]$'
gt_file_is c_kill process-gone gone gone
gt_same c_kill user-lines ns_user_all

# ---- a signal stop, then detach: the program gets its signal (handler runs)
c_signal() {
	gt_stub_start "$1" c_signal --once :0 "$GT_CPROG" signal || return
	gt_gdb "$1" c_signal "$GT_CPROG" <<EOF
set non-stop on
target extended-remote $GT_ADDR
continue
echo @@detach\n
detach
EOF
	gt_stub_wait "$1" c_signal
	gt_wait_file "$(gt_f "$1" c_signal out)" '^gtcprog: done' 15
}
gt_each c_signal
gt_has c_signal received '^Program received signal SIGUSR1, User defined signal 1\.$'
gt_has c_signal detached '^\[Inferior 1 \(process [0-9]+\) detached\]$'
gt_has c_signal handed-back '^gtcprog: after raise usr1=1$' out
gt_same c_signal program-output cat out

# ---- Go: one thread stops at main.checkpoint, the runtime's threads run on
go_ns() {
	gt_stub_start "$1" go_ns --once :0 "$GT_GOROUTINES" || return
	gt_gdb "$1" go_ns "$GT_GOROUTINES" <<EOF
set non-stop on
target extended-remote $GT_ADDR
break main.checkpoint
continue
echo @@info\n
info threads
echo @@bt\n
python gdb.execute("thread %d" % [t.num for t in gdb.selected_inferior().threads() if not t.is_running()][0])
bt
echo @@end\n
delete
continue -a
EOF
	gt_stub_wait "$1" go_ns
}
gt_each go_ns
gt_has go_ns stop 'hit Breakpoint 1, main\.checkpoint \(n=6[,)].* at .*goroutines\.go:[0-9]+$'
chk_go_running() {
	local t
	t=$(sed -n '/^@@info/,/^@@bt/p' "$(gt_f "$1" "$2" gdb)")
	[ "$(echo "$t" | grep -Ec 'Thread [0-9]+\.[0-9]+ "goroutines" +main\.checkpoint')" = 1 ] ||
		{ echo "not exactly one thread shown at main.checkpoint"; return 1; }
	[ "$(echo "$t" | grep -Ec 'Thread [0-9]+\.[0-9]+ "goroutines" +\(running\)$')" -ge 5 ] ||
		{ echo "fewer than 5 threads shown (running)"; return 1; }
}
gt_check go_ns info-running chk_go_running
gt_has go_ns bt-main '^#1 +0x[0-9a-f]+ in main\.main \(\) at .*goroutines\.go:[0-9]+$'
gt_has go_ns exit '^\[Inferior 1 \(process [0-9]+\) exited normally\]$'
gt_has go_ns output '^goroutines: workers=6 parked=200 sum=210 total=6$' out
gt_same go_ns program-output cat out
gt_same go_ns bt gt_k_frames

# ---- interrupt -a / continue -a: gdb's MI (the CLI commands through
# -interpreter-exec), so the script can wait for the stops it expects
cat >"$GT_T/mi.py" <<'PYEOF'
# mi.py GDB-ARGS... -- SCRIPT: drive gdb's MI with a script, print what a user sees.
# Script lines: "cmd TEXT" (an MI command, or a CLI command run through
# -interpreter-exec console), "stops N" (wait for N *stopped records: one line
# each, sorted by thread), "exit" (wait for the exit *stopped record).
import re, subprocess, sys, time

def unq(s):
    # MI c-string
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == '\\' and i + 1 < len(s):
            n = s[i + 1]
            out.append({'n': '\n', 't': '\t', '"': '"', '\\': '\\'}.get(n, n)); i += 2
        else:
            out.append(c); i += 1
    return ''.join(out)

def field(rec, name):
    m = re.search(r'[,{]' + name + r'="((?:[^"\\]|\\.)*)"', rec)
    return unq(m.group(1)) if m else ''

argv = sys.argv[1:]
sep = argv.index('--')
gdb_args, script = argv[:sep], argv[sep + 1]
p = subprocess.Popen(['gdb', '--interpreter=mi3', '-nx', '-q'] + gdb_args, stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
import os
rawlog = open(os.environ['MI_RAWLOG'], 'w') if os.environ.get('MI_RAWLOG') else None
pend = ''         # console text not yet ended by a newline
stopped = []      # *stopped records not yet consumed by "stops"/"exit"

def emit(s):
    sys.stdout.write(s if s.endswith('\n') else s + '\n'); sys.stdout.flush()

def read_line():
    line = p.stdout.readline()
    if not line:
        emit('mi: gdb went away'); sys.exit(1)
    line = line.rstrip('\n')
    if rawlog: rawlog.write(line + '\n'); rawlog.flush()
    if line.startswith('~'):
        global pend
        pend += unq(line[2:-1])
        while '\n' in pend:
            l, pend = pend.split('\n', 1)
            emit(l)
    elif line.startswith('&') or line.startswith('@'):
        pass                               # log / target output
    elif line.startswith('*stopped'):
        stopped.append(line)
    return line

def cmd(text):
    if not text.startswith('-'):
        text = '-interpreter-exec console "%s"' % text.replace('\\', '\\\\').replace('"', '\\"')
    emit('@@ ' + text)
    p.stdin.write(text + '\n'); p.stdin.flush()
    while True:
        l = read_line()
        if l.startswith('^'):
            if l.startswith('^error'):
                emit('error: ' + field(l, 'msg'))
            return

def show_stop(r):
    reason = field(r, 'reason')
    if reason.startswith('exited'):
        return 'exited: %s %s' % (reason, field(r, 'exit-code'))
    fn = re.search(r'frame=\{.*?func="([^"]*)"', r)
    return 'stopped: thread %s reason=%s signal=%s func=%s' % (
        field(r, 'thread-id'), reason or '-', field(r, 'signal-name') or '-', fn.group(1) if fn else '-')

def stops(n, deadline=60):
    end = time.time() + deadline
    while len(stopped) < n and time.time() < end:
        read_line()
    got = [show_stop(r) for r in stopped[:n]]
    del stopped[:n]
    for g in sorted(got, key=lambda s: [int(x) if x.isdigit() else x for x in re.split(r'(\d+)', s)]):
        emit(g)

for line in open(script):
    line = line.rstrip('\n')
    if not line.strip():
        continue
    verb, _, rest = line.partition(' ')
    if verb == 'cmd':
        cmd(rest)
    elif verb == 'stops':
        stops(int(rest))
    elif verb == 'exit':
        while not any(field(r, 'reason').startswith('exited') for r in stopped):
            read_line()
        for r in stopped:
            if field(r, 'reason').startswith('exited'):
                emit(show_stop(r))
        stopped.clear()
p.stdin.write('-gdb-exit\n'); p.stdin.flush()
try:
    p.wait(timeout=20)
except subprocess.TimeoutExpired:
    p.kill()
PYEOF
mi_int() {
	gt_stub_start "$1" mi_int --once :0 "$NS_PROG" || return
	cat >"$(gt_f "$1" mi_int script)" <<EOF
cmd -gdb-set mi-async on
cmd set remotelogfile $(gt_f "$1" mi_int rlog)
cmd set non-stop on
cmd target extended-remote $GT_ADDR
stops 1
cmd break point_a
cmd continue &
stops 1
cmd interrupt -a
stops 3
cmd info threads
cmd thread 4
cmd bt
cmd continue -a &
cmd interrupt -a
stops 4
cmd info threads
cmd set var g_stop = 1
cmd delete
cmd continue -a &
exit
EOF
	timeout -k 5 "$GT_GDB_TIMEOUT" python3 "$GT_T/mi.py" "$NS_PROG" -- "$(gt_f "$1" mi_int script)" >"$(gt_f "$1" mi_int gdb)" 2>&1
	gt_stub_wait "$1" mi_int
}
gt_each mi_int
gt_has mi_int first-hit '^stopped: thread 2 reason=breakpoint-hit signal=- func=point_a$'
# the three other threads, each stopped with signal 0 ("Thread N stopped.")
mi_stops() { grep -E '^(@@|stopped:|exited:)' | grep -Ev 'remotelogfile|target extended-remote' | sed -E 's/ func=.*//'; }
chk_int1() {
	local t
	t=$(sed -n '/^@@ .*"interrupt -a"/,/^@@ .*"info threads"/p' "$(gt_f "$1" "$2" gdb)" | grep '^stopped:' | sed -E 's/ func=.*//' | head -n 3 | tr '\n' '|')
	[ "$t" = "stopped: thread 1 reason=signal-received signal=0|stopped: thread 3 reason=signal-received signal=0|stopped: thread 4 reason=signal-received signal=0|" ] ||
		{ echo "interrupt -a: $t"; return 1; }
}
gt_check mi_int interrupt-a chk_int1
gt_has mi_int stopped-msg '^Thread 4 "worker3" stopped\.$'
chk_allstopped() {
	local t
	t=$(awk '/^@@ .*"info threads"/ { n++ } /^@@ .*"thread 4"/ { n = 9 } n == 1' "$(gt_f "$1" "$2" gdb)")
	[ "$(echo "$t" | grep -Ec '^[* ] +[1-4] +Thread ')" = 4 ] || { echo "info threads does not list 4 threads"; return 1; }
	! echo "$t" | grep -q '(running)' || { echo "a thread is still shown (running)"; return 1; }
	echo "$t" | grep -Eq '^ +2 +Thread [0-9]+\.[0-9]+ "worker1" +point_a \(id=1\)' || { echo "thread 2 not at point_a"; return 1; }
}
gt_check mi_int info-all-stopped chk_allstopped
gt_has mi_int thread4-bt '^#[0-9]+ +(0x[0-9a-f]+ in )?spin \(id=3\) at .*ns_prog\.c:[0-9]+$'
chk_int2() {
	local t
	t=$(sed -n '/^@@ .*"continue -a &"/,/^@@ .*"set var g_stop/p' "$(gt_f "$1" "$2" gdb)" | grep -c '^stopped: thread [1-4] reason=signal-received signal=0 ')
	[ "$t" = 4 ] || { echo "continue -a + interrupt -a: $t threads stopped with signal 0 (want 4)"; return 1; }
}
gt_check mi_int continue-interrupt-a chk_int2
gt_has mi_int exit '^exited: exited-normally'
gt_has mi_int output '^ns_prog: done a=1 b=0$' out
gt_same mi_int stops mi_stops

gt_packets_check

# ---- the packets (gotap-stub only: gdbserver's answers are the reference above)
cat >"$GT_T/raw.py" <<'PYEOF'
# raw non-stop protocol check against a stub started with ns_prog (argv: addr pid exe noack|ack)
import re, sys, time
sys.path.insert(0, sys.argv[5] if len(sys.argv) > 5 else '.')
import rsp

addr, pid, exe, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
tag = 'raw-' + mode
ok = True
def check(name, cond, why=''):
    global ok
    if cond:
        print('PASS: %s.%s' % (tag, name))
    else:
        ok = False
        print('FAIL: %s.%s: %s' % (tag, name, why))

class Client(rsp.Rsp):
    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.notes = []          # notifications seen while waiting for replies
    def read_any(self):
        """('$', payload) or ('%', payload)."""
        while True:
            while self.buf[:1] in (b'+', b'-'):
                self.acks.append(self.buf[:1]); self.buf = self.buf[1:]
            if self.buf[:1] in (b'$', b'%'):
                j = self.buf.find(b'#')
                if j >= 0 and len(self.buf) >= j + 3:
                    kind = self.buf[:1].decode()
                    p = self.buf[1:j]
                    self.buf = self.buf[j + 3:]
                    if kind == '$' and not self.noack:
                        self.s.sendall(b'+')
                    return kind, rsp.rle_decode(p)
            elif self.buf:
                raise RuntimeError('garbage from stub: %r' % self.buf[:40])
            self._fill()
    def read_packet(self):
        while True:
            k, p = self.read_any()
            if k == '$':
                return p
            self.notes.append(p)
    def send(self, payload):
        self.s.sendall(rsp.frame(payload))
        if not self.noack:
            while not self.buf:
                self._fill()
            # a notification may come before the ack
            while self.buf[:1] == b'%':
                k, p = self.read_any(); self.notes.append(p)
                while not self.buf:
                    self._fill()
            a = self.read_ack()
            if a != b'+':
                raise RuntimeError('no ack for %r: %r' % (payload[:40], a))
    def wait_note(self):
        if self.notes:
            return self.notes.pop(0)
        while True:
            k, p = self.read_any()
            if k == '%':
                return p
            raise RuntimeError('unexpected packet while waiting for a notification: %r' % p[:60])

def tid_of(stop):
    m = re.search(rb'thread:p([0-9a-f]+)\.([0-9a-f]+);', stop)
    return int(m.group(2), 16) if m else None

c = Client(addr)
sup = c.cmd('qSupported:multiprocess+;swbreak+;hwbreak+;vContSupported+')
check('qsupported', b'QNonStop+' in sup, sup.decode(errors='replace'))
if mode == 'noack':
    r = c.cmd('QStartNoAckMode')
    check('noack', r == b'OK', r)
    c.noack = True
r = c.cmd('QNonStop:1')
check('qnonstop', r == b'OK', r)
r = c.cmd('?')
check('status-first', r.startswith(b'T05') and tid_of(r) == pid, r[:80])
r = c.cmd('vStopped')
check('status-drained', r == b'OK', r[:80])
syms = rsp.symbols(exe)
base = rsp.exe_base(pid, exe)
A, B = base + syms['point_a'], base + syms['point_b']
g_a, g_rel, g_stop = base + syms['g_a'], base + syms['g_release_b'], base + syms['g_stop']
check('z0', c.cmd('Z0,%x,1' % A) == b'OK' and c.cmd('Z0,%x,1' % B) == b'OK')
r = c.cmd('vCont;c')
check('vcont-ok', r == b'OK', r[:80])
n1 = c.wait_note()
check('stop-note', n1.startswith(b'Stop:T05') and b'swbreak' in n1, n1[:80])
ta = tid_of(n1)
r = c.cmd('vStopped')
check('vstopped-ok', r == b'OK', r[:80])
# other threads run on: memory, threads, thread-alive are served meanwhile
r = c.cmd('m%x,4' % g_a)
check('m-running', r == b'00000000', r)   # point_a's first line: g_a++ not run yet
# worker3 spins on: its counter grows while the stub serves packets
spins = base + syms['g_spins'] + 3 * 8
first = int.from_bytes(bytes.fromhex(c.cmd('m%x,8' % spins).decode()), 'little')
grew = False
for _ in range(100):
    time.sleep(0.05)
    now = int.from_bytes(bytes.fromhex(c.cmd('m%x,8' % spins).decode()), 'little')
    if now > first:
        grew = True
        break
check('others-run', grew, 'g_spins[3] stayed %d' % first)
r = c.cmd('qfThreadInfo')
ths = re.findall(rb'p[0-9a-f]+\.([0-9a-f]+)', r)
check('threads-running', len(ths) >= 4, r[:120])
check('T-alive', c.cmd('T%x' % ta) == b'OK')
r = c.cmd('Hgp%x.%x' % (pid, pid))
r = c.cmd('g')
check('g-running-thread', r.startswith(b'E'), r[:40])
r = c.cmd('Hgp%x.%x' % (pid, ta))
r = c.cmd('p10')
check('p-stopped-thread', len(r) == 16 and int.from_bytes(bytes.fromhex(r.decode()), 'little') == A, r[:40])
# the second breakpoint, hit while the first thread stays stopped
r = c.cmd('M%x,4:01000000' % g_rel)
check('M-running', r == b'OK', r)
n2 = c.wait_note()
tb = tid_of(n2)
check('second-stop', n2.startswith(b'Stop:T05') and tb not in (None, ta), n2[:80])
check('second-vstopped', c.cmd('vStopped') == b'OK')
# vCont;t stops the main thread: signal 0
r = c.cmd('vCont;t:p%x.%x' % (pid, pid))
check('vcont-t-ok', r == b'OK', r)
n3 = c.wait_note()
check('vcont-t-stop', n3.startswith(b'Stop:T00') and tid_of(n3) == pid, n3[:80])
check('vcont-t-vstopped', c.cmd('vStopped') == b'OK')
# '?' reports every stopped thread again: the first as its reply, the rest by vStopped
seen = []
r = c.cmd('?')
while r != b'OK' and len(seen) < 20:
    seen.append(tid_of(r))
    r = c.cmd('vStopped')
check('status-all', sorted(seen) == sorted([ta, tb, pid]), '%r vs %r' % (seen, [ta, tb, pid]))
# a stopped thread's action c resumes it alone; '?' then leaves it out
r = c.cmd('vCont;c:p%x.%x' % (pid, tb))
check('vcont-one', r == b'OK', r)
seen = []
r = c.cmd('?')
while r != b'OK' and len(seen) < 20:
    seen.append(tid_of(r))
    r = c.cmd('vStopped')
check('status-after-resume', sorted(seen) == sorted([ta, pid]), '%r' % seen)
# the end: every thread on, the exit as a notification
check('z0-out', c.cmd('z0,%x,1' % A) == b'OK' and c.cmd('z0,%x,1' % B) == b'OK')
check('M-stop', c.cmd('M%x,4:01000000' % g_stop) == b'OK')
if mode == 'ack':
    check('vcont-all', c.cmd('vCont;c') == b'OK')
    n = c.wait_note()
    check('exit-note', re.match(rb'Stop:W0+;process:%x$' % pid, n) is not None, n[:80])
    check('exit-vstopped', c.cmd('vStopped') == b'OK')
    r = c.cmd('?')
    check('status-noproc', r in (b'OK', b'W00'), r)
else:
    # back to all-stop while a thread runs: every thread stopped, then the
    # ordinary synchronous replies
    r = c.cmd('QNonStop:0')
    check('allstop-again', r == b'OK', r)
    r = c.cmd('?')
    check('allstop-status', r.startswith(b'T'), r[:60])
    r = c.cmd('vCont;c')
    while r.startswith(b'T'):      # stops still pending from non-stop come first
        r = c.cmd('vCont;c')
    check('allstop-exit', re.match(rb'W0+;process:%x$' % pid, r) is not None, r[:80])
    check('allstop-no-notes', not c.notes, c.notes[:1])
c.cut('close')
sys.exit(0 if ok else 1)
PYEOF
raw() {   # MODE: ack | noack
	local tag=raw_$1
	gt_stub_start sut "$tag" --once :0 "$NS_PROG" || { gt_fail "raw-$1" "stub did not start"; return; }
	timeout 60 python3 "$GT_T/raw.py" "$GT_ADDR" "$GT_INF_PID" "$NS_PROG" "$1" "$GT_ROOT/tests/lib" 2>&1 |
		sed -E '/^(PASS|FAIL|SKIP): /!s/^/  | /'
	gt_stub_wait sut "$tag"
}
case " $GT_SIDES " in
*" sut "*)
	if gt_side_ok sut >/dev/null; then
		raw ack
		raw noack
	fi ;;
esac

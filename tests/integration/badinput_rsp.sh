#!/usr/bin/env bash
# badinput_rsp: malformed RSP input never harms the stub (issue 7, item 4).
# A raw client (python3) talks to `gotap-stub --once :0 fault_prog` (launched,
# stopped at its first instruction) and checks, one line per packet, that
#   checksum.*    a bad checksum gets '-' (ack mode), then the stub answers
#   badhex.*      bad hex in every argument kind gets an E reply (vFile: F-1,errno)
#   truncated.*   packets missing their arguments, a frame cut off by the next '$'
#   oversized.*   packets beyond the advertised PacketSize (E, and the next answered)
#   thread.*      unknown thread ids in H, T, then g (refused, or g fails)
#   unmapped.*    m/M/X/Z0 at unmapped addresses
#   absurd.*      lengths like m0,ffffffffffffffff (E, or a partial read of real bytes
#                 whose reply fits the advertised PacketSize)
# and after each one the stub still answers the next packet with the right bytes.
#   flood.*       50 MB of garbage (random bytes, unterminated and oversized frames,
#                 random packets with absurd arguments) within 15 s, in ack mode,
#                 replies drained: the stub then still answers, and its VmRSS grew
#                 by at most 1 MiB (measured after a warm-up session).
. "$(dirname "$0")/../lib/common.sh"
gt_init badinput_rsp fault_prog
STUB=$GOTAP_BIN/gotap-stub
PROG=$GT_TARGETS/fault_prog
command -v python3 >/dev/null || { gt_skip badinput_rsp "python3 not installed"; exit 0; }
[ -x "$STUB" ] || { gt_fail badinput_rsp "no stub at $STUB"; exit 1; }

# the raw RSP client the python parts import (tests/lib/rsp.py)
cp "$(dirname "$0")/../lib/rsp.py" "$GT_T/rsp.py"

cat >"$GT_T/badinput.py" <<'PYEOF'
# badinput.py ADDR EXE PID: every class of malformed packet gets an E or empty
# reply (or the '-' nak for a bad checksum) and the stub answers the next
# packet.  Prints PASS:/FAIL: lines.
import re, sys, time
from rsp import Rsp, frame, addr_of
addr, exe, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = Rsp(addr, timeout=15)
tick = addr_of(pid, exe, 'tick'); buf = addr_of(pid, exe, 'g_buf')
want_tick = None
def ok(name): print('PASS: %s' % name); sys.stdout.flush()
def bad(name, why): print('FAIL: %s: %s' % (name, why)); sys.stdout.flush()
def is_err(rep):
    return rep == b'' or re.fullmatch(rb'E[0-9a-fA-F]{2}|E\..*', rep, re.S) is not None
def probe():
    """The stub still answers, with the right bytes."""
    rep = r.cmd('m%x,4' % tick)
    return rep == want_tick
def check(name, payload, accept=is_err):
    try:
        rep = r.cmd(payload)
    except Exception as e:
        bad(name, 'no reply: %s' % e); return False
    if not accept(rep):
        bad(name, 'reply %r (want an E or empty reply)' % rep[:80]); return False
    try:
        if not probe():
            bad(name, 'the next packet got a wrong answer'); return False
    except Exception as e:
        bad(name, 'no answer to the next packet: %s' % e); return False
    ok(name); return True

r.cmd('qSupported:multiprocess+;swbreak+;hwbreak+')
with open('/proc/%d/mem' % pid, 'rb') as m:
    m.seek(tick); want_tick = m.read(4).hex().encode()

# --- bad checksum (ack mode): '-' then the retransmission is answered
r.send_raw(b'$qC#00')
a = r.read_ack()
if a == b'-':
    ok('checksum.nak')
else:
    bad('checksum.nak', 'got %r for a bad checksum (want -)' % a)
r.buf = b''
if probe(): ok('checksum.next-answered')
else: bad('checksum.next-answered', 'no right answer after the nak')
# a packet with a non-hex checksum
r.send_raw(b'$qC#zz')
a = r.read_ack()
r.buf = b''
if a in (b'-', b'+'):
    # '+' must come with an E reply (malformed), '-' alone is a nak
    if a == b'+':
        rep = r.read_packet()
        (ok if is_err(rep) else lambda n: bad(n, 'reply %r' % rep))('checksum.nonhex')
    else:
        ok('checksum.nonhex')
else:
    bad('checksum.nonhex', 'got %r' % a)
if probe(): ok('checksum.nonhex.next-answered')
else: bad('checksum.nonhex.next-answered', 'no right answer')

r.cmd('QStartNoAckMode'); r.noack = True

# --- bad hex
for n, p in [('m-addr', 'mzz,4'), ('m-len', 'm%x,zz' % tick), ('M-data', 'M%x,2:zz11' % buf),
             ('M-addr', 'Mq,1:00'), ('X-addr', 'Xq,1:A'), ('Z0-addr', 'Z0,xyz,1'),
             ('Z-type', 'Zq,%x,1' % tick), ('p-reg', 'pzz'), ('P-val', 'P10=zz'),
             ('G-data', 'Gzz'), ('H-tid', 'Hgzz'), ('T-tid', 'Tzz'),
             ('qXfer-offset', 'qXfer:features:read:target.xml:zz,10'),
             ('QPassSignals', 'QPassSignals:zz'),
             ('vCont-action', 'vCont;q'), ('C-sig', 'Czz'), ('qRcmd', 'qRcmd,zz')]:
    check('badhex.' + n, p)

# vFile errors are "F-1,errno" (GDB manual E.9.7), not E replies
def vf_err(rep): return re.fullmatch(rb'F-1,[0-9a-fA-F]+', rep) is not None
check('badhex.vFile-path', 'vFile:open:zz,0,0', vf_err)
check('truncated.vFile-open', 'vFile:open:', vf_err)
check('truncated.vFile-pread', 'vFile:pread:0', vf_err)
check('badhex.vFile-pread-fd', 'vFile:pread:zz,10,0', vf_err)
check('unknown.vFile-close', 'vFile:close:f', vf_err)

# --- truncated packets
for n, p in [('m', 'm'), ('m-nolen', 'm%x' % tick), ('m-comma', 'm%x,' % tick),
             ('M-nocolon', 'M%x,4' % buf), ('M-short', 'M%x,4:00' % buf),
             ('M-odd', 'M%x,1:0' % buf), ('X-short', 'X%x,10:AB' % buf),
             ('Z0-nokind', 'Z0,%x' % tick), ('Z', 'Z'), ('z0', 'z0,'), ('p', 'p'), ('P', 'P1'),
             ('P-noval', 'P1='), ('H', 'H'), ('T', 'T'), ('vCont', 'vCont;'),
             ('qXfer', 'qXfer:features:read:'), ('qXfer-nolen', 'qXfer:features:read:target.xml:0'),
             ('vAttach', 'vAttach;')]:
    check('truncated.' + n, p)
# a frame cut off by the next one: the stub resynchronises on '$'
r.send_raw(b'$m%x,4' % tick)
time.sleep(0.1)
r.send_raw(frame('m%x,4' % tick))
reps = []
try:
    for _ in range(2):
        rep = r.read_packet(); reps.append(rep)
        if rep == want_tick: break
except Exception as e:
    reps.append(repr(e).encode())
if reps and reps[-1] == want_tick and all(is_err(x) for x in reps[:-1]):
    ok('truncated.frame-resync')
else:
    bad('truncated.frame-resync', 'replies %r' % reps)

# --- oversized beyond PacketSize
sup = r.cmd('qSupported:multiprocess+')
m = re.search(rb'PacketSize=([0-9a-fA-F]+)', sup)
psize = int(m.group(1), 16) if m else 0x20000
check('oversized.m', b'm%x,4' % tick + b'0' * (psize + 100))
check('oversized.X', b'X%x,%x:' % (buf, 4 * psize) + b'A' * (2 * psize))
check('oversized.garbage', b'q' * (4 * psize))

# --- unknown thread ids
check('thread.H-g', 'Hgp%x.7ffffffe' % pid)
check('thread.H-c', 'Hc7ffffffe')
check('thread.T', 'Tp%x.7ffffffe' % pid)
check('thread.T-pid', 'Tp7ffffffe.7ffffffe')
def g_after_bad_H():
    # Hg to an unknown thread is refused; if the stub accepted it, 'g' must fail
    rep = r.cmd('Hgp%x.7ffffffe' % pid)
    g = r.cmd('g')
    if rep.startswith(b'OK') and not is_err(g):
        return 'Hg accepted an unknown thread and g answered %r' % g[:40]
    if not is_err(rep) and not rep.startswith(b'OK'):
        return 'Hg reply %r' % rep
    return None
why = g_after_bad_H()
r.cmd('Hg0')
if why: bad('thread.g', why)
elif probe(): ok('thread.g')
else: bad('thread.g', 'next packet wrong')
# vCont naming only an unknown thread resumes nothing: the stub answers
# (E, empty or OK), the process stays stopped (the probe reads memory)
check('thread.vCont', 'vCont;c:p%x.7ffffffe' % pid, accept=lambda x: is_err(x) or x == b'OK')

# --- unmapped addresses
for n, p in [('m0', 'm0,8'), ('m-high', 'mffffffffffff0000,10'), ('m-kernel', 'mffffffff81000000,8'),
             ('M0', 'M0,1:00'), ('X0', b'X0,1:A'), ('Z0-0', 'Z0,0,1'), ('Z0-high', 'Z0,ffffffffffff0000,1'),
             ('z0-not-inserted', 'z0,%x,1' % (tick + 1))]:
    check('unmapped.' + n, p)

# --- absurd lengths
def bounded(rep):
    # a partial 'm' reply is allowed (GDB manual: "may contain fewer units"):
    # it must be the real bytes from that address, the reply within PacketSize
    if is_err(rep): return True
    if len(rep) > psize or re.fullmatch(rb'[0-9a-f]+', rep) is None or len(rep) % 2: return False
    with open('/proc/%d/mem' % pid, 'rb') as mm:
        mm.seek(tick); real = mm.read(len(rep) // 2)
    return rep[:8] == want_tick and bytes.fromhex(rep.decode())[8:] == real[8:] or bytes.fromhex(rep.decode()) == real
for n, p, acc in [('m0-max', 'm0,ffffffffffffffff', is_err),
                  ('m-wrap', 'mffffffffffffffff,2', is_err),
                  ('m-text-max', 'm%x,ffffffffffffffff' % tick, bounded),
                  ('m-text-64bit', 'm%x,10000000000000000' % tick, is_err),
                  ('M-max', 'M%x,ffffffffffffffff:00' % buf, is_err),
                  ('X-max', 'X%x,ffffffff:A' % buf, is_err),
                  ('Z2-len', 'Z2,%x,ffffffff' % buf, is_err),
                  ('Z0-kind', 'Z0,%x,ffffffffffffffff' % tick, is_err),
                  ('p-regno', 'pffffffff', is_err),
                  ('qXfer-len', 'qXfer:features:read:target.xml:0,ffffffffffffffff',
                   lambda x: is_err(x) or (x[:1] in (b'm', b'l') and len(x) <= psize + 1)),
                  ('qXfer-offset', 'qXfer:features:read:target.xml:ffffffffffffffff,10',
                   lambda x: is_err(x) or x == b'l')]:
    check('absurd.' + n, p, acc)
# the 64 KiB region behind g_buf is still zero: no bad write touched it
rep = r.cmd('m%x,100' % buf)
if rep == b'00' * 0x100: ok('absurd.no-partial-write')
else: bad('absurd.no-partial-write', 'g_buf starts %r' % rep[:40])
r.cut('close')
PYEOF

cat >"$GT_T/flood.py" <<'PYEOF'
# flood.py ADDR EXE PID MBYTES SECS: send MBYTES of garbage (random bytes,
# unterminated and oversized frames, malformed and absurd packets) in ack
# mode within SECS, draining every reply; then check that the stub answers.
import os, random, sys, threading, time
from rsp import Rsp, frame, addr_of
addr, exe, pid, spid, mb, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
def rss():
    for l in open('/proc/%d/status' % spid):
        if l.startswith('VmRSS:'): return int(l.split()[1])

r = Rsp(addr, timeout=15)
tick = addr_of(pid, exe, 'tick')
with open('/proc/%d/mem' % pid, 'rb') as m:
    m.seek(tick); want = m.read(4).hex().encode()
# warm-up: what a normal session touches (largest reply, thread list, files)
r.cmd('qSupported:multiprocess+')
r.cmd('m%x,20000' % tick); r.cmd('qXfer:threads:read::0,fff'); r.cmd('qfThreadInfo')
r.cmd('qXfer:features:read:target.xml:0,fff'); r.cmd('g')
rss0 = rss()
print('RSS-BEFORE %d' % rss0)
rnd = random.Random(7)
stop = False
got = [0]
def drain():
    r.s.settimeout(0.5)
    while not stop:
        try:
            d = r.s.recv(1 << 20)
            if not d: break
            got[0] += len(d)
        except OSError:
            pass
t = threading.Thread(target=drain); t.start()
templates = [b'm%x,%x', b'M%x,%x:', b'X%x,%x:', b'Z0,%x,%x', b'z0,%x,%x', b'Hg%x', b'T%x', b'p%x',
             b'qXfer:threads:read::%x,%x', b'qXfer:features:read:target.xml:%x,%x',
             b'vFile:open:%x,0,0', b'vFile:pread:%x,%x,0', b'qfThreadInfo', b'qsThreadInfo',
             b'qXfer:libraries-svr4:read::%x,%x', b'qXfer:auxv:read::%x,%x', b'qRcmd,%x', b'?', b'g']
def chunk():
    k = rnd.randrange(4)
    if k == 0:
        return rnd.randbytes(65536)
    if k == 1:
        return b'$' + bytes(rnd.choice(b'0123456789abcdef,:;') for _ in range(200000))
    if k == 2:
        return b'$' + rnd.randbytes(1000) + b'#' + rnd.randbytes(2)
    out = []
    for _ in range(200):
        tpl = rnd.choice(templates)
        n = tpl.count(b'%')
        args = tuple(rnd.choice([0, 1, tick, rnd.getrandbits(64), 0xffffffffffffffff, 0x10000])
                     for _ in range(n))
        out.append(frame(tpl % args if n else tpl))
    return b''.join(out)
pool = [chunk() for _ in range(24)]
sent, t0, i = 0, time.time(), 0
try:
    while sent < mb << 20 and time.time() - t0 < secs:
        c = pool[i % len(pool)]; i += 1
        r.s.sendall(c)
        sent += len(c)
except OSError as e:
    print('SEND-ERROR %s after %d bytes' % (e, sent))
time.sleep(0.5)
stop = True; t.join()
print('SENT %d RECEIVED %d' % (sent, got[0]))
# a clean frame boundary, then a real request
r.s.settimeout(15)
r.s.sendall(b'#00')   # ends a frame still open (its checksum is bad: nak)
time.sleep(0.3)
try:
    while True:
        r.s.settimeout(0.3)
        if not r.s.recv(1 << 20): break
except OSError:
    pass
# Replies to the flood may still be on their way (a loaded machine: the
# stub works through the socket's backlog): send the request and look for
# its exact reply in whatever comes, acking every packet, for up to 15 s.
r.buf = b''
req = frame('m%x,4' % tick)
expect = frame(want)
seen = b''
t1 = time.time()
ok = False
try:
    r.s.sendall(req)
    while time.time() - t1 < 15 and not ok:
        r.s.settimeout(max(0.1, 15 - (time.time() - t1)))
        d = r.s.recv(1 << 20)
        if not d: break
        seen = (seen + d)[-(1 << 20):]
        r.s.sendall(b'+' * d.count(b'#'))
        ok = expect in seen
except OSError as e:
    print('NO-ANSWER %s' % e)
if ok:
    print('ANSWERS')
    print('RSS-AFTER %d' % rss())
else:
    print('WRONG: no %r in the last %d bytes received' % (expect, len(seen)))
sys.stdout.flush()
PYEOF

# start_stub TAG ARGS...: SPID, PORT, TPID (launched program) from its messages.
start_stub() {
	local tag=$1; shift
	gt_spawn "$GT_T/$tag.out" "$GT_T/$tag.err" "$STUB" "$@"
	SPID=$GT_PID
	gt_wait_file "$GT_T/$tag.err" '^Listening on port' 20 || { gt_fail "$tag.setup" "stub did not listen" "$GT_T/$tag.err"; return 1; }
	PORT=$(sed -n 's/^Listening on port \([0-9]*\).*/\1/p' "$GT_T/$tag.err" | head -n 1)
	TPID=$(sed -n 's/^Process .* created; pid = \([0-9]*\).*/\1/p' "$GT_T/$tag.err" | head -n 1)
}

# --- every class of malformed packet
if start_stub packets --once :0 "$PROG"; then
	(cd "$GT_T" && timeout 120 python3 badinput.py "127.0.0.1:$PORT" "$PROG" "$TPID") >"$GT_T/packets.log" 2>&1
	rc=$?
	cat "$GT_T/packets.log" | grep -E '^(PASS|FAIL|SKIP): '
	[ "$rc" = 0 ] || gt_fail packets.client "the client failed (status $rc)" "$GT_T/packets.log"
	gt_wait_pid "$SPID" 10
	if [ "$GT_RC" = 0 ]; then gt_pass packets.stub-exits-cleanly; else gt_fail packets.stub-exits-cleanly "stub status $GT_RC" "$GT_T/packets.err"; fi
	if [ -n "$TPID" ] && ! [ -e "/proc/$TPID" ]; then gt_pass packets.program-reaped; else gt_fail packets.program-reaped "launched program $TPID still there"; fi
fi

# --- garbage flood: the stub's memory stays flat
# (an ASan build keeps freed memory in quarantine, 256 MB by default: that
# growth is the sanitizer's, not the stub's; the option is ignored otherwise.
# FLOOD_MB sets the amount, 50 by default.)
if ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0 start_stub flood --once :0 "$PROG"; then
	(cd "$GT_T" && timeout 120 python3 flood.py "127.0.0.1:$PORT" "$PROG" "$TPID" "$SPID" "${FLOOD_MB:-50}" 15) >"$GT_T/flood.log" 2>&1
	before=$(sed -n 's/^RSS-BEFORE //p' "$GT_T/flood.log")
	after=$(sed -n 's/^RSS-AFTER //p' "$GT_T/flood.log")
	sent=$(sed -n 's/^SENT \([0-9]*\).*/\1/p' "$GT_T/flood.log")
	if grep -q '^ANSWERS$' "$GT_T/flood.log"; then gt_pass flood.still-answers; else gt_fail flood.still-answers "no right answer after the flood" "$GT_T/flood.log"; fi
	if [ -n "$sent" ] && [ "$sent" -ge $((10 << 20)) ]; then gt_pass flood.sent; else gt_fail flood.sent "sent only ${sent:-0} bytes (want >= 10 MB)" "$GT_T/flood.log"; fi
	# An ASan stub's allocator touches a fresh region per size class the
	# first time each is used: +1.5 MB that stays flat from 50 to 150 MB of
	# garbage (measured) -- allow it 4 MB; a plain stub 1 MB.
	bound=1024
	nm "$STUB" 2>/dev/null | grep -q ' __asan_init$' && bound=4096
	if [ -n "$before" ] && [ -n "$after" ] && [ $((after - before)) -le "$bound" ]; then
		gt_pass "flood.rss-flat"
	else
		gt_fail flood.rss-flat "VmRSS ${before:-?} kB -> ${after:-?} kB after $sent bytes of garbage (bound: +$bound kB)" "$GT_T/flood.log"
	fi
	echo "  (flood: $sent bytes sent, stub VmRSS $before kB -> $after kB)"
	gt_wait_pid "$SPID" 10
fi
exit 0

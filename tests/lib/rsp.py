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

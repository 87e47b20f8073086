#!/usr/bin/env python3
"""table.py — turn scripts/bench.sh's raw runs into the `make bench` table.

usage: table.py TIMES.tsv LOGDIR [NOTE...]
  LOGDIR/name.G.log: the runs' output, each run after an "@@run N" line;
  the counts are read from it (ptrace_floor "hits=N", gdb "HITS N",
  bpftrace "@grow: N" / "@newstack: N", gotap --summary "N stack growths (R reported)").
  TIMES.tsv: "name G wall cpu status base_wall base_cpu" per run (seconds; base_ =
  the uninstrumented run made just before it; 0 for the baselines themselves)
Prints a Markdown table (medians over the runs) and a line per issue 6 goal.

E(G), the growth events of the workload at G goroutines, is bpftrace's
in-kernel count of growing runtime.copystack calls (median), or 4*G+1 when
bpftrace did not run.  Per-event µs is the marginal cost of one growth:
  ((T(G) - T(1)) - (Tnative(G) - Tnative(1))) / (E(G) - E(1))
so neither the tool's start-up nor the program's own work is counted.
"""
import collections
import re
import statistics
import sys

TOOLS = [  # name, label, what its count is
    ("native", "uninstrumented (program's own work per growth)", None),
    ("floor_emulate", "**bare ptrace loop**: int3 kept, 1st insn emulated", "stops"),
    ("floor_stopall", "ptrace loop: stop all threads + step over", "stops"),
    ("floor_step", "ptrace loop: naive step over (loses hits)", "stops"),
    ("bpftrace", "bpftrace uprobes newstack+copystack, count", "bpf"),
    ("gotap_text", "**gotap**, full text report", "gotap"),
    ("gotap_json", "gotap --format json", "gotap"),
    ("gotap_every", "gotap --every 1000", "gotap"),
    ("gotap_tcp", "gotap --remote (gotap-stub over TCP), text", "gotap"),
    ("gotap_stopall", "gotap, stub steps over by stop-all (GOTAP_PT_STEPOVER=stopall)", "gotap"),
    ("gotap_p1", "gotap, full text, GOMAXPROCS=1", "gotap"),
    ("gotap_p8", "gotap, full text, GOMAXPROCS=8", "gotap"),
    ("gdb", "gdb native, count", "stops"),
    ("gdbserver_gdb", "gdbserver + gdb (TCP), count", "stops"),
    ("stub_gdb", "gotap-stub + gdb (TCP), count", "stops"),
]
FLOOR = "floor_emulate"


def runs_of(logdir, name, g):
    try:
        text = open(f"{logdir}/{name}.{g}.log", errors="replace").read()
    except OSError:
        return []
    return re.split(r"^@@run \d+\n", text, flags=re.M)[1:]


def counts(logdir, name, g):
    """per-run dicts of the counts found in the tool's output"""
    res = []
    for out in runs_of(logdir, name, g):
        c = {}
        for key, pat in (("hits", r"hits=(\d+)"), ("hits", r"^HITS (\d+)"),
                         ("grow", r"^@grow: (\d+)"), ("newstack", r"^@newstack: (\d+)"),
                         ("grow", r"gotap summary: (\d+) stack growths"),
                         ("reported", r"stack growths \((\d+) reported\)"),
                         ("newstack", r"newstack entries: (\d+)")):
            m = re.search(pat, out, re.M)
            if m and key not in c:
                c[key] = int(m.group(1))
        res.append(c)
    return res


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def main():
    times_path, logdir, notes = sys.argv[1], sys.argv[2], sys.argv[3:]
    runs = collections.defaultdict(list)  # (name, G) -> [(wall, cpu, base_wall, base_cpu)]
    bad = collections.Counter()           # (name, G) -> failed runs
    for line in open(times_path):
        name, g, wall, cpu, rc, bwall, bcpu = line.rstrip("\n").split("\t")
        runs[(name, int(g))].append((float(wall), float(cpu), float(bwall), float(bcpu)))
        if rc != "0":
            bad[(name, int(g))] += 1
    T = {k: statistics.median(r[0] for r in v) for k, v in runs.items()}

    def E(g):
        v = med([c.get("grow") for c in counts(logdir, "bpftrace", g)])
        return v if v is not None else 4 * g + 1

    def excess(name, g, cpu):
        """median over the runs of the tool's time minus its paired
        uninstrumented run's (a baseline: its own time)"""
        k = 1 if cpu else 0
        v = runs[(name, g)]
        if name.startswith("native") or name == "bpftrace":
            return statistics.median(r[k] for r in v)
        return statistics.median(r[k] - r[k + 2] for r in v)

    def per_event(name, g, cpu=False):
        """µs per growth: ((T(G)-T(1)) - (Tnative(G)-Tnative(1))) / (E(G)-E(1))"""
        if g == 1 or (name, 1) not in runs or (name, g) not in runs:
            return None
        de = E(g) - E(1)
        if de <= 0:
            return None
        return (excess(name, g, cpu) - excess(name, 1, cpu)) / de * 1e6

    floor_g = max((g for (n, g) in T if n == FLOOR and g > 1), default=None)
    floor_pe = per_event(FLOOR, floor_g) if floor_g else None
    floor_cpu = per_event(FLOOR, floor_g, True) if floor_g else None

    def us(x):
        return "" if x is None else (f"{x:.1f}" if abs(x) < 100 else f"{x:.0f}")

    def times(a, b):
        return f"{a / b:.1f}x" if (a is not None and b) else "?"

    rows = []
    print("| tool | G | growths E(G) | seen by the tool (median) | wall s median [min-max] runs "
          "| per-event µs, wall | per-event µs, CPU | × bare loop, wall / CPU | growths lost |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, label, kind in TOOLS:
        gs = sorted(g for (n, g) in T if n == name and g > 1)
        if name in ("native", "bpftrace"):
            gs = gs[-1:]                 # the others only feed E(G)
        for g in gs:
            c = counts(logdir, name, g)
            e = E(g)
            seen, lost = "", ""
            if kind == "stops":
                h = med([x.get("hits") for x in c])
                if h is not None:
                    seen = f"{h:.0f} newstack stops"
                    lost = f"{e - h:.0f} (at least)" if h < e else "0"
            elif kind == "gotap":
                gr = med([x.get("grow") for x in c])
                rep = med([x.get("reported") for x in c])
                ns = med([x.get("newstack") for x in c])
                if gr is not None:
                    seen = f"{gr:.0f} growths ({rep:.0f} reported), {ns:.0f} newstack stops"
                    lost = f"{e - gr:.0f}"
            elif kind == "bpf":
                ns = med([x.get("newstack") for x in c])
                seen = f"{e:.0f} growths, {ns:.0f} newstack calls" if ns is not None else ""
                lost = "(reference)"
            pe, pc = per_event(name, g), per_event(name, g, True)
            pes, pcs = us(pe), us(pc)
            ratio = f"{times(pe, floor_pe)} / {times(pc, floor_cpu)}" if kind else ""
            if name == "native":
                pes, pcs = f"({pes})", f"({pcs})"
            if name == "floor_step":     # it misses most hits: no meaningful cost
                pes, pcs, ratio = "(misses hits)", "", ""
            w = [r[0] for r in runs[(name, g)]]
            fail = f", **{bad[(name, g)]} failed**" if bad[(name, g)] else ""
            print(f"| {label} | {g} | {e:.0f} | {seen} | {T[(name, g)]:.3f} [{min(w):.2f}-{max(w):.2f}] "
                  f"x{len(w)}{fail} | {pes} | {pcs} | {ratio} | {lost} |")
            rows.append((name, g, pe, pc, lost))

    print()
    print("Per-event µs = ((T(G)-T(1)) - (Tnative(G)-Tnative(1))) / (E(G)-E(1)): medians, each run of a tool "
          "paired with an uninstrumented run just before it; wall = elapsed time, CPU = user+sys of every "
          "process of the run (the traced program included)"
          + (f"; × bare loop = per-event µs / the bare loop's at G={floor_g} ({us(floor_pe)} µs wall, "
             f"{us(floor_cpu)} µs CPU)" if floor_pe else "") + ".")
    print("E(G) = growing runtime.copystack calls counted in the kernel (bpftrace), else 4G+1; "
          "\"lost\" = E(G) minus the growths the tool saw (a newstack count is an upper bound "
          "of the growths seen: it includes preemption requests).")

    def best(name):
        vals = [r for r in rows if r[0] == name and r[2] is not None]
        return max(vals, key=lambda r: r[1]) if vals else None
    goals = []
    full, every = best("gotap_text"), best("gotap_every")
    for num, row, limit, what in ((1, full, 2, "full report"), (2, every, 1.2, "--every 1000")):
        if row and floor_pe:
            x = row[2] / floor_pe
            goals.append(f"{num}. {what} <= {limit}x bare loop: {x:.0f}x wall, "
                         f"{times(row[3], floor_cpu)} CPU at G={row[1]} ({'met' if x <= limit else 'not met'})")
    p1, p8 = best("gotap_p1"), best("gotap_p8")
    if p1 and p8 and p1[2] > 0:
        x = p8[2] / p1[2]
        goals.append(f"3. GOMAXPROCS=8 within 1.3x of GOMAXPROCS=1: {x:.2f}x wall, "
                     f"{times(p8[3], p1[3])} CPU at G={p8[1]} "
                     f"({'met' if x <= 1.3 else 'not met'}; goroutine counts and memory not measured)")
    lost = [r for r in rows if r[0].startswith("gotap") and r[4] not in ("", "0")]
    goals.append("4. zero lost: " + ("met (every gotap run saw E(G) growths)" if not lost else
                 "not met: " + ", ".join(f"{r[0]} G={r[1]} lost {r[4]}" for r in lost)))
    if ("gotap_text", 1) in runs and ("gdb_symbols", 1) in runs:
        su = excess("gotap_text", 1, False)
        gl = T[("gdb_symbols", 1)]
        goals.append(f"5. start-up under 1/5 of gdb loading the symbols: gotap's G=1 run minus the "
                     f"program's {su:.3f} s vs gdb {gl:.3f} s = {su / gl:.2f} "
                     f"({'met' if su <= gl / 5 else 'not met'})")
    print()
    print("Issue 6 goals:")
    for line in goals:
        print(f"- {line}")
    print()
    for n in notes:
        print(f"Note: {n}.")


if __name__ == "__main__":
    main()

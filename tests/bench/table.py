#!/usr/bin/env python3
"""table.py — turn scripts/bench.sh's raw runs into the `make bench` table.

usage: table.py TIMES.tsv LOGDIR [NOTE...]
  LOGDIR/name.G.log: the runs' output, each run after an "@@run N" line;
  the counts are read from it (ptrace_floor "hits=N", gdb "HITS N",
  bpftrace "@grow: N" / "@newstack: N", gotap --summary "N stack growths (R reported)"),
  the peak RSS lines "hwm COMM PID kB" (tests/bench/hwm.c) and the start-up
  runners' "first_report_s=S" / "elapsed_s=S".
  TIMES.tsv: "name G wall cpu status base_wall base_cpu" per run (seconds; base_ =
  the uninstrumented run made just before or after it; 0 for the baselines themselves)
Prints a Markdown table (medians over the runs) and a line per issue 6 goal.

E(G), the growth events of the workload at G goroutines, is bpftrace's
in-kernel count of growing runtime.copystack calls (median), or 4*G+1 when
bpftrace did not run.  Per-event µs is the marginal cost of one growth:
  ((T(G) - T(1)) - (Tnative(G) - Tnative(1))) / (E(G) - E(1))
so neither the tool's start-up nor the program's own work is counted.

Goal 3 is judged on three figures: trace mode's per-event cost at GOMAXPROCS=8
over GOMAXPROCS=1; max/min of its per-event cost with N goroutines parked
(gotap_trace_iN rows, N = 10 ... 100,000, same growths); and the peak RSS of
gotap and gotap-stub at the smallest and the biggest full-report run (flat:
within max(2 MiB, 10%), as scripts/soak.sh judges).  Goal 5: median time to
gotap's first report line over median gdb -batch symbol load.
"""
import collections
import os
import re
import statistics
import sys

TOOLS = [  # name, label, what its count is
    ("native", "uninstrumented (program's own work per growth)", None),
    ("floor_emulate", "**bare ptrace loop**: int3 kept, 1st insn emulated", "stops"),
    ("floor_stopall", "ptrace loop: stop all threads + step over", "stops"),
    ("floor_step", "ptrace loop: naive step over (loses hits)", "stops"),
    ("bpftrace", "bpftrace uprobes newstack+copystack, count", "bpf"),
    ("gotap_trace", "**gotap --mode=trace**, full text report", "gotap"),
    ("gotap_trace_every", "gotap --mode=trace --every 1000", "gotap"),
    ("gotap_trace_p1", "gotap --mode=trace, full text, GOMAXPROCS=1", "gotap"),
    ("gotap_trace_p8", "gotap --mode=trace, full text, GOMAXPROCS=8", "gotap"),
    ("gotap_trace_i*", None, "gotap"),   # one row per gotap_trace_iN measured, N ascending
    ("gotap_text", "**gotap --mode=stop**, full text report", "gotap"),
    ("gotap_json", "gotap --mode=stop --format json", "gotap"),
    ("gotap_every", "gotap --mode=stop --every 1000", "gotap"),
    ("gotap_tcp", "gotap --mode=stop --remote (gotap-stub over TCP), text", "gotap"),
    ("gotap_stopall", "gotap --mode=stop, stub steps over by stop-all (GOTAP_PT_STEPOVER=stopall)", "gotap"),
    ("gotap_p1", "gotap --mode=stop, full text, GOMAXPROCS=1", "gotap"),
    ("gotap_p8", "gotap --mode=stop, full text, GOMAXPROCS=8", "gotap"),
    ("gdb", "gdb native, count", "stops"),
    ("gdbserver_gdb", "gdbserver + gdb (TCP), count", "stops"),
    ("stub_gdb", "gotap-stub + gdb (TCP), count", "stops"),
]
FLOOR = "floor_emulate"
SCALE_LIMIT = 1.3   # goal 3: GOMAXPROCS 8 vs 1, and max/min over the goroutine counts


def idle_label(n):
    return f"gotap --mode=trace, full text, +{n:,} goroutines parked"


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
        for key in ("first_report_s", "elapsed_s"):
            m = re.search(r"^%s=([0-9.]+)$" % key, out, re.M)
            if m:
                c[key] = float(m.group(1))
        for comm, kb in re.findall(r"^hwm (\S+) \d+ (\d+)$", out, re.M):
            if comm in ("gotap", "gotap-stub"):
                c["hwm_" + comm] = max(c.get("hwm_" + comm, 0), int(kb))
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
        return f"{a / b:.1f}x" if (a is not None and b is not None and b > 0) else "?"

    def mb(kb):
        return "" if kb is None else f"{kb / 1024:.1f}"

    tools = []
    for name, label, kind in TOOLS:
        if name.endswith("*"):
            found = sorted({(int(m.group(1)), n) for (n, g) in T
                            for m in [re.fullmatch(re.escape(name[:-1]) + r"(\d+)", n)] if m})
            tools += [(n, idle_label(num), kind) for num, n in found]
        else:
            tools.append((name, label, kind))

    rows = []
    print("| tool | G | growths E(G) | seen by the tool (median) | wall s median [min-max] runs "
          "| per-event µs, wall | per-event µs, CPU | × bare loop, wall / CPU | growths lost "
          "| peak RSS MB, gotap / stub |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, label, kind in tools:
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
                    # trace mode stops at no breakpoint: no newstack count
                    seen = f"{gr:.0f} growths ({rep:.0f} reported)" + \
                        (f", {ns:.0f} newstack stops" if ns is not None else ", no stop")
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
            ha = med([x.get("hwm_gotap") for x in c])
            hs = med([x.get("hwm_gotap-stub") for x in c])
            rss = f"{mb(ha) or '?'} / {mb(hs) or '?'}" if (ha or hs) else ""
            print(f"| {label} | {g} | {e:.0f} | {seen} | {T[(name, g)]:.3f} [{min(w):.2f}-{max(w):.2f}] "
                  f"x{len(w)}{fail} | {pes} | {pcs} | {ratio} | {lost} | {rss} |")
            rows.append((name, g, pe, pc, lost, e, ha, hs))

    print()
    print("Per-event µs = ((T(G)-T(1)) - (Tnative(G)-Tnative(1))) / (E(G)-E(1)): medians, each run of a tool "
          "paired with an uninstrumented run just before or after it (alternately); wall = elapsed time, CPU = user+sys of every "
          "process of the run (the traced program included)"
          + (f"; × bare loop = per-event µs / the bare loop's at G={floor_g} ({us(floor_pe)} µs wall, "
             f"{us(floor_cpu)} µs CPU)" if floor_pe else "") + ".")
    print("E(G) = growing runtime.copystack calls counted in the kernel (bpftrace), else 4G+1; "
          "\"lost\" = E(G) minus the growths the tool saw (a newstack count is an upper bound "
          "of the growths seen: it includes preemption requests). Peak RSS = VmHWM of gotap and of "
          "gotap-stub at their exit (median of the runs; tests/bench/hwm.c).")

    def best(name):
        vals = [r for r in rows if r[0] == name and r[2] is not None]
        return max(vals, key=lambda r: r[1]) if vals else None
    h2h = head_to_head(os.environ.get("BENCH_H2H"), logdir, E)
    goals = []
    # the goals are judged on trace mode when it was measured (gotap's default)
    full = best("gotap_trace") or best("gotap_text")
    every = best("gotap_trace_every") or best("gotap_every")
    for num, row, limit, what in ((1, full, 2, "full report"), (2, every, 1.2, "--every 1000")):
        tool = "trace" if num == 1 else "every"
        if h2h and h2h["any"]["ratio"][tool][0] is not None:
            a, c = h2h["any"], h2h.get("cpu0")
            w, cp = a["ratio"][tool][0], a["ratio"][tool][1]
            ok = w <= limit and cp is not None and cp <= limit
            line = (f"{num}. {what} <= {limit}x bare loop: {w:.2f}x wall, {fmt_x(cp)} CPU (median of "
                    f"{a['rounds']} head-to-head rounds at G={a['g']}; every round's ratio "
                    f"{fmt_x(a['range'][tool][0])}-{fmt_x(a['range'][tool][1])} wall)")
            if c and c["ratio"][tool][0] is not None:
                line += (f"; all on one CPU: {fmt_x(c['ratio'][tool][0])} wall, "
                         f"{fmt_x(c['ratio'][tool][1])} CPU")
            goals.append(line + f" ({'met' if ok else 'not met'})")
        elif row and floor_pe is not None and floor_pe <= 0:
            goals.append(f"{num}. {what} <= {limit}x bare loop: not computable, the bare loop's per-event "
                         f"wall figure is {floor_pe:.1f} µs (noise); {times(row[3], floor_cpu)} CPU at "
                         f"G={row[1]}, {row[0]} (not met)")
        elif row and floor_pe:
            x = row[2] / floor_pe
            goals.append(f"{num}. {what} <= {limit}x bare loop: {x:.2f}x wall, "
                         f"{times(row[3], floor_cpu)} CPU at G={row[1]}, {row[0]} "
                         f"({'met' if x <= limit else 'not met'})")
    goals.append(goal3(rows, best))
    lost = [r for r in rows if r[0].startswith("gotap") and r[4] not in ("", "0")]
    if h2h:
        lost += [(f"h2h {s} {t}", h2h[s]["g"], 0, 0, h2h[s]["lost"][t])
                 for s in h2h for t in ("trace", "every") if h2h[s]["lost"][t] not in (0, None)]
    goals.append("4. zero lost: " + ("met (every gotap run saw E(G) growths)" if not lost else
                 "not met: " + ", ".join(f"{r[0]} G={r[1]} lost {r[4]}" for r in lost)))
    goals.append(goal5(counts(logdir, "startup_gotap", 1), counts(logdir, "startup_gdb", 1)))
    if h2h:
        print()
        print_h2h(h2h)
    print()
    print("Issue 6 goals:")
    for line in goals:
        for i, part in enumerate(line.split("\n")):
            print(("- " if i == 0 else "  ") + part)
    print()
    for n in notes:
        print(f"Note: {n}.")


def fmt_x(x):
    return "?" if x is None else f"{x:.2f}x"


H2H_SETS = (("any", "any CPU (as the rows above)"), ("cpu0", "all on one CPU (taskset -c 0)"))


def head_to_head(path, logdir, E):
    """The head-to-head rounds (scripts/bench.sh h2h.tsv: SET ROUND NAME G
    WALL CPU STATUS): per set, per round, each tool's per-event µs net of the
    same round's uninstrumented runs, and its ratio to the same round's bare
    loop; medians and ranges over the rounds."""
    if not path:
        return None
    try:
        lines = [l.rstrip("\n").split("\t") for l in open(path) if l.strip()]
    except OSError:
        return None
    t = collections.defaultdict(dict)     # (set, round) -> {(name, g): (wall, cpu)}
    bad = collections.Counter()
    for st, r, name, g, wall, cpu, rc in lines:
        t[(st, int(r))][(name, int(g))] = (float(wall), float(cpu))
        if rc != "0":
            bad[st] += 1
    res = {}
    for st, _ in H2H_SETS:
        rounds = sorted(r for (s, r) in t if s == st)
        if not rounds:
            continue
        g = max(gg for (s, r) in t if s == st for (_, gg) in t[(s, r)])
        de = E(g) - E(1)
        pe = {n: ([], []) for n in ("floor", "trace", "every")}
        ratio = {n: ([], []) for n in ("trace", "every")}
        for r in rounds:
            m = t[(st, r)]
            if not all((n, gg) in m for n in ("native", "floor", "trace", "every") for gg in (1, g)):
                continue
            for k in (0, 1):
                nat = m[("native", g)][k] - m[("native", 1)][k]
                v = {n: (m[(n, g)][k] - m[(n, 1)][k] - nat) / de * 1e6 for n in pe}
                for n in pe:
                    pe[n][k].append(v[n])
                for n in ratio:
                    ratio[n][k].append(v[n] / v["floor"] if v["floor"] > 0 else None)
        lost = {}
        for n in ("trace", "every"):
            gr = med([c.get("grow") for c in counts(logdir, f"h2h_{st}_{n}", g)])
            lost[n] = None if gr is None else E(g) - gr
        res[st] = {
            "g": g, "e": E(g), "rounds": len(pe["floor"][0]), "failed": bad[st], "lost": lost,
            "pe": {n: (med(pe[n][0]), med(pe[n][1])) for n in pe},
            "ratio": {n: (med(ratio[n][0]), med(ratio[n][1])) for n in ratio},
            "range": {n: (min((x for x in ratio[n][0] if x is not None), default=None),
                          max((x for x in ratio[n][0] if x is not None), default=None)) for n in ratio},
        }
    return res or None


def print_h2h(h2h):
    first = next(iter(h2h.values()))
    print(f"Head-to-head (goals 1-2): rounds of the program alone, the bare loop, gotap --mode=trace "
          f"(full text report) and gotap --mode=trace --every 1000, each at G=1 and G={first['g']} "
          f"({first['e']:.0f} growths), the order rotating; per-event µs net of the same round's "
          f"uninstrumented runs; × bare loop = median over the rounds of the ratio to the same round's bare loop.")
    print()
    print("| runs | rounds | bare loop µs, wall / CPU | full report µs, wall / CPU | × bare loop, wall / CPU "
          "[range of wall] | --every 1000 µs, wall / CPU | × bare loop, wall / CPU [range of wall] | lost |")
    print("|---|---|---|---|---|---|---|---|")
    for st, label in H2H_SETS:
        if st not in h2h:
            continue
        h = h2h[st]

        def pair(p):
            return " / ".join("?" if x is None else f"{x:.1f}" for x in p)
        cells = []
        for n in ("trace", "every"):
            lo, hi = h["range"][n]
            cells.append(f"{pair(h['pe'][n])} | {fmt_x(h['ratio'][n][0])} / {fmt_x(h['ratio'][n][1])} "
                         f"[{fmt_x(lo)}-{fmt_x(hi)}]")
        lost = sum(v for v in h["lost"].values() if v) if any(h["lost"].values()) else 0
        fail = f", **{h['failed']} failed**" if h["failed"] else ""
        print(f"| {label} | {h['rounds']}{fail} | {pair(h['pe']['floor'])} | {cells[0]} | {cells[1]} | {lost:.0f} |")


def ratio_of(a, b):
    """a / b, or None when b is not a positive cost (noise can make a small
    per-event figure negative)"""
    return a / b if (a is not None and b is not None and b > 0 and a > 0) else None


def goal3(rows, best):
    """per-event cost at GOMAXPROCS 8 / 1; max/min over the parked-goroutine
    counts; peak RSS at the smallest and the biggest full-report run.
    Returns the goal's lines (first one with the overall verdict)."""
    parts, verdicts = [], []
    p1, p8 = best("gotap_trace_p1"), best("gotap_trace_p8")
    if not (p1 and p8):
        p1, p8 = best("gotap_p1"), best("gotap_p8")
    if p1 and p8:
        x, xc = ratio_of(p8[2], p1[2]), ratio_of(p8[3], p1[3])
        ok = x is not None and x <= SCALE_LIMIT
        verdicts.append(ok)
        parts.append(f"a) GOMAXPROCS=8 within {SCALE_LIMIT}x of GOMAXPROCS=1: "
                     + (f"{x:.2f}x wall" if x else "not computable (a per-event figure <= 0)")
                     + (f", {xc:.2f}x CPU" if xc else "") + f" at G={p8[1]}, {p8[0]} "
                     f"({'met' if ok else 'not met'})")
    else:
        parts.append("a) GOMAXPROCS=8 vs 1: not measured")
    idle = sorted((int(r[0][len("gotap_trace_i"):]), r) for r in rows
                  if re.fullmatch(r"gotap_trace_i\d+", r[0]) and r[2] is not None)
    if len(idle) >= 2:
        walls = [r[2] for _, r in idle]
        cpus = [r[3] for _, r in idle]
        x = ratio_of(max(walls), min(walls))
        xc = ratio_of(max(cpus), min(cpus))
        ok = x is not None and x <= SCALE_LIMIT
        verdicts.append(ok)
        each = ", ".join(f"{n:,}: {r[2]:.1f}/{r[3]:.1f}" for n, r in idle)
        parts.append(f"b) flat from {idle[0][0]:,} to {idle[-1][0]:,} goroutines (max/min per-event cost "
                     f"<= {SCALE_LIMIT}x, {idle[0][1][5]:.0f} growths each): "
                     + (f"{x:.2f}x wall" if x else "not computable (a per-event figure <= 0)")
                     + (f", {xc:.2f}x CPU" if xc else "")
                     + f" (µs per growth wall/CPU with N parked: {each}) ({'met' if ok else 'not met'})")
    else:
        parts.append("b) goroutine counts: not measured (no gotap_trace_iN rows)")
    # memory: the full-report trace rows, smallest and biggest G with both RSS figures
    full = sorted((r for r in rows if r[0] == "gotap_trace" and r[6] and r[7]), key=lambda r: r[1])
    if not full:
        full = sorted((r for r in rows if r[0] == "gotap_text" and r[6] and r[7]), key=lambda r: r[1])
    if len(full) >= 2:
        lo, hi = full[0], full[-1]

        def flat(a, b):
            return b - a <= max(2048, a / 10)
        ok = flat(lo[6], hi[6]) and flat(lo[7], hi[7])
        verdicts.append(ok)
        parts.append(f"c) memory flat (peak RSS within max(2 MiB, 10%)) from {lo[5]:.0f} to {hi[5]:.0f} "
                     f"growths ({lo[0]} G={lo[1]} -> G={hi[1]}): gotap {lo[6] / 1024:.1f} -> "
                     f"{hi[6] / 1024:.1f} MB, gotap-stub {lo[7] / 1024:.1f} -> {hi[7] / 1024:.1f} MB "
                     f"({'met' if ok else 'not met'}; a million events: make soak)")
    else:
        parts.append("c) memory: not measured (needs two full-report runs with peak RSS)")
    measured = len(verdicts) == 3
    overall = "met" if measured and all(verdicts) else ("not met" if not all(verdicts) else "incomplete")
    return f"3. scales ({overall}):\n" + "\n".join("- " + p for p in parts)


def goal5(gotap, gdb):
    """median seconds to gotap's first report line / median gdb symbol load"""
    a = [c["first_report_s"] for c in gotap if "first_report_s" in c]
    b = [c["elapsed_s"] for c in gdb if "elapsed_s" in c]
    if not a or not b:
        return ("5. start-up under 1/5 of gdb loading the symbols: not measured"
                + ("" if a else " (no gotap first report)") + ("" if b else " (no gdb run)"))
    ma, mb = statistics.median(a), statistics.median(b)
    x = ma / mb
    return (f"5. start-up under 1/5 of gdb loading the symbols: gotap's first report line after "
            f"{ma:.3f} s [{min(a):.3f}-{max(a):.3f}] x{len(a)} vs `gdb -batch -ex 'info line "
            f"runtime.newstack'` {mb:.3f} s [{min(b):.3f}-{max(b):.3f}] x{len(b)}, same ~2 MB binary: "
            f"{x:.2f} ({'met' if x < 0.2 else 'not met'})")


if __name__ == "__main__":
    main()

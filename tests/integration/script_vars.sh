#!/usr/bin/env bash
# script_vars.sh — target variables and program context in scripts, against
# the seed's example.go (say(s string) prints s five times):
#   - $s (a Go string parameter, in registers at entry) at the function probe;
#   - $i and $s at a statement inside the loop (example.go:12), $$vars/$$parms;
#   - @var("runtime.g0")->stack->hi, @cast(u_register("r14"), "runtime.g"),
#     $thisg->m->curg->goid at runtime.newstack, go_goid(), go_stack_size();
#   - exit() from a probe: the session ends, end probes run, the program is
#     let go; a timer probe ticks while the program runs;
#   - a runtime fault (unreadable pointer) is reported once, the hits are
#     skipped and counted, and the program still finishes normally.
. "$(dirname "$0")/script_lib.bash"
command -v go >/dev/null || { echo "SKIP: script_vars: go not installed"; exit 0; }
scr_runner
scr_build example
T=$SCR_T
E=$SCR_TARGETS/example

# ---- $var at a function entry and at a statement
cat >"$T/v.stp" <<'STP'
global calls, lines
probe process.function("main.say") { calls[$s]++; printf("say %s parms{%s}\n", $s, $$parms) }
probe process.statement("main.say@example.go:12") { lines[$s, $i] = 1; printf("line12 %s %d {%s}\n", $s, $i, $$vars) }
probe end {
  foreach (w+ in calls) printf("calls %s %d\n", w, calls[w])
  foreach ([w, i+] in lines) printf("seen %s %d\n", w, i)
}
STP
timeout 120 "${SCR_RUN[@]}" --script "$T/v.stp" -- "$E" >"$T/v.out" 2>"$T/v.err"; rc=$?
scr_check vars.runs "exit status $rc" "$T/v.err" [ "$rc" -eq 0 ]
scr_check vars.string_param "\$s was not read at main.say's entry" "$T/v.out" \
	grep -qx 'calls hello 1' "$T/v.out"
scr_check vars.parms 'no $$parms line' "$T/v.out" grep -qx 'say hello parms{s="hello"}' "$T/v.out"
for i in 0 1 2 3 4; do
	scr_check "vars.statement_i$i" "no hit with \$i == $i for hello" "$T/v.out" grep -qx "seen hello $i" "$T/v.out"
done
scr_check vars.vars_list 'no $$vars at the statement' "$T/v.out" grep -qx 'line12 hello 2 {s="hello" i=0x2}' "$T/v.out"

# ---- runtime structures: @var, @cast, u_register, $thisg chains, go_* helpers
LINE=$(scr_newstack_line)
cat >"$T/g.stp" <<STP
global n
probe process.statement("runtime.newstack@runtime/stack.go:$LINE") {
  if (n++) next
  g = u_register("r14")
  printf("g0_is_r14 %d\n", @var("runtime.g0")->stack->hi == @cast(g, "runtime.g")->stack->hi || @cast(g, "runtime.g")->m->g0 == g)
  printf("thisg_is_r14 %d\n", \$thisg == g)
  printf("curg_goid %d %d\n", \$thisg->m->curg->goid, go_goid())
  printf("curg_stack %d %d\n", \$thisg->m->curg->stack->hi - \$thisg->m->curg->stack->lo, go_stack_size())
  printf("probefunc %s pid_ok %d tid_ok %d\n", probefunc(), pid() > 0, tid() > 0)
}
STP
timeout 120 "${SCR_RUN[@]}" --script "$T/g.stp" -- "$E" >"$T/g.out" 2>"$T/g.err"; rc=$?
scr_check runtime.runs "exit status $rc" "$T/g.err" [ "$rc" -eq 0 ]
scr_check runtime.var_cast_register "@var/@cast/u_register disagree" "$T/g.out" grep -qx 'g0_is_r14 1' "$T/g.out"
scr_check runtime.thisg "\$thisg is not R14 (getg())" "$T/g.out" grep -qx 'thisg_is_r14 1' "$T/g.out"
scr_check runtime.go_goid "go_goid() != \$thisg->m->curg->goid" "$T/g.out" grep -Eqx 'curg_goid ([0-9]+) \1' "$T/g.out"
scr_check runtime.go_stack_size "go_stack_size() != curg's stack" "$T/g.out" grep -Eqx 'curg_stack ([0-9]+) \1' "$T/g.out"
scr_check runtime.context "probefunc/pid/tid" "$T/g.out" grep -qx 'probefunc runtime.newstack pid_ok 1 tid_ok 1' "$T/g.out"

# ---- $var[i]: an array parameter (main.say(depth int, pad [8]uint64) in
# script_grow: say(180) sets pad[180 % 8] = 180 and calls say(179, pad))
scr_build script_grow
cat >"$T/a.stp" <<'STP'
global n
probe process.function("main.say") { if (n++ == 1) { printf("depth %d pad[4]=%d pad[3]=%d\n", $depth, $pad[4], $pad[3]); exit() } }
STP
timeout 120 "${SCR_RUN[@]}" --script "$T/a.stp" -- "$SCR_TARGETS/script_grow" >"$T/a.out" 2>"$T/a.err"; rc=$?
scr_check vars.array_index "exit $rc, no 'depth 179 pad[4]=180 pad[3]=0'" "$T/a.err" \
	grep -qx 'depth 179 pad\[4\]=180 pad\[3\]=0' "$T/a.out"

# ---- function("main.*"): one probe per matching function, pp() names it
timeout 120 "${SCR_RUN[@]}" -e 'global c; probe process.function("main.*") { c[pp()]++ } probe end { foreach (f+ in c) printf("%s %d\n", f, c[f]) }' \
	-- "$E" >"$T/w.out" 2>"$T/w.err"; rc=$?
scr_check wildcard.functions "exit $rc; want main.main 1 and main.say 2" "$T/w.out" \
	grep -qx 'process.function("main.say") 2' "$T/w.out"
scr_check wildcard.main "no main.main" "$T/w.out" grep -qx 'process.function("main.main") 1' "$T/w.out"

# ---- exit() ends the session; end runs; timers tick meanwhile
cat >"$T/x.stp" <<'STP'
global n, ticks
probe timer.ms(1) { ticks++ }
probe process.statement("main.say@example.go:12") { if (++n == 3) exit() }
probe end { printf("n=%d ticked=%d\n", n, ticks >= 0) }
STP
timeout 120 "${SCR_RUN[@]}" --script "$T/x.stp" -- "$E" >"$T/x.out" 2>"$T/x.err"; rc=$?
scr_check exit.ends_session "exit $rc; want n=3 at end" "$T/x.out" grep -qx 'n=3 ticked=1' "$T/x.out"

# ---- a runtime fault: reported once, hits skipped and counted, program unharmed
cat >"$T/f.stp" <<'STP'
probe process.statement("main.say@example.go:12") { printf("%d\n", user_long(8)) }
STP
timeout 120 "${SCR_RUN[@]}" --script "$T/f.stp" -- "$E" >"$T/f.out" 2>"$T/f.err"; rc=$?
nerr=$(grep -c 'ERROR: user memory read fault at 0x8' "$T/f.err")
scr_check fault.reported_once "$nerr error lines" "$T/f.err" [ "$nerr" -eq 1 ]
scr_check fault.counted "no skipped-hits count" "$T/f.err" grep -Eq 'WARNING: ([5-9]|10) probe hits skipped after runtime errors' "$T/f.err"
n=$(grep -c '^hello$' "$T/f.out" "$T/f.err" | awk -F: '{s += $2} END {print s}')
scr_check fault.program_unharmed "exit $rc, hello printed $n times" "$T/f.err" [ "$rc" -eq 0 -a "$n" -eq 5 ]
exit 0

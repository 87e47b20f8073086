#!/usr/bin/env bash
# script_errors.sh — script errors against a real program: each gives its
# message at FILE:LINE:COL with the source line and a caret, exit status 2,
# and no program is started (no "Process ... created", no child left).
. "$(dirname "$0")/script_lib.bash"
command -v go >/dev/null || { echo "SKIP: script_errors: go not installed"; exit 0; }
scr_runner
scr_build example
T=$SCR_T
E=$SCR_TARGETS/example

# name | script | expected message (grep -F)
while IFS='|' read -r name script want; do
	[ -n "$name" ] || continue
	printf '%s\n' "$script" >"$T/$name.stp"
	timeout 60 "${SCR_RUN[@]}" --script "$T/$name.stp" -- "$E" >"$T/$name.out" 2>"$T/$name.err"; rc=$?
	ok=1
	grep -qF -- "$want" "$T/$name.err" || ok=0
	grep -q 'created; pid' "$T/$name.err" "$T/$name.out" && ok=0
	grep -q '^ *\^$' "$T/$name.err" || ok=0
	scr_check "errors.$name" "exit $rc, want status 2 and: $want" "$T/$name.err" [ "$rc" -eq 2 -a "$ok" -eq 1 ]
done <<'CASES'
unknown_var|probe process.function("main.say") { println($nosuch) }|unknown_var.stp:1:46: unknown target variable $nosuch in main.say (variables here: $s
no_member|probe process.function("runtime.newstack") { println(@cast(u_register("r14"), "runtime.g")->m->nosuch) }|has no member 'nosuch'
struct_value|probe process.function("runtime.newstack") { println(@var("runtime.g0")->stack) }|is a struct runtime.stack: name a member (members: lo, hi)
not_live|probe process.function("runtime.newstack") { println($thisg) }|target variable $thisg is not available at process.function("runtime.newstack")
no_function|probe process.function("main.nosuch") { }|no function main.nosuch in
no_line|probe process.statement("main.say@example.go:2") { }|no statement at example.go:2 in function main.say
return_probe|probe process.function("main.say").return { }|.return probes are refused
bad_cast|probe process.function("main.say") { println(@cast(0, "no.type")->x) }|no type named "no.type"
not_available|probe process.statement("main.say@example.go:12") { println($nosuch2) }|unknown target variable $nosuch2
syntax|probe process.function("main.say") { x = }|expected an expression, found '}'
CASES
exit 0

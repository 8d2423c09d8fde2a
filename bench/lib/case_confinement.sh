# Metric: what mdrun's default confinement costs at start-up. The same `run --rm` of `true`
# as the start metric, with the seccomp filter, then everything (capabilities, masked and
# read-only paths, device list, filter) turned off; ratio to the default.
# Sourced by bench/run.
#
# Two tables: hyperfine's, and one measured interleaved (one run of each case in turn,
# MDBENCH_CONF_ROUNDS rounds, default 300), whose median paired differences stay readable
# when the machine drifts by more than what is measured (it does, by 5-10 % within a run).

conf_names=("mdrun (defaults)" "mdrun --security-opt seccomp=unconfined" "mdrun --privileged")
conf_cmds=("$MDRUN run --rm --memory 100m busybox true"
	"$MDRUN run --rm --memory 100m --security-opt seccomp=unconfined busybox true"
	"$MDRUN run --rm --memory 100m --privileged busybox true")
hf=()
for i in "${!conf_names[@]}"; do hf+=(-n "${conf_names[$i]}" "${conf_cmds[$i]}"); done
hf+=(-n "mdrun (defaults, again)" "${conf_cmds[0]}")
hyperfine -N --style basic -w $((WARMUP * 3)) -r "$RUNS" \
	--setup "$BENCH/lib/idle confinement" \
	--export-json "$W/confinement.json" "${hf[@]}" >&2
hyperfine_table "Confinement: the defaults against seccomp off and \`--privileged\`" \
	"$W/confinement.json" "mdrun (defaults)" confinement

rounds=${MDBENCH_CONF_ROUNDS:-300}
"$BENCH/lib/idle" confinement-interleaved
: >"$W/conf.tsv"
for ((r = 0; r < rounds; r++)); do
	for i in "${!conf_cmds[@]}"; do
		t0=$EPOCHREALTIME
		${conf_cmds[$i]} >/dev/null
		t1=$EPOCHREALTIME
		printf '%d\t%d\t%s\n' "$r" "$i" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) * 1000 }')" >>"$W/conf.tsv"
	done
done
# The median of the numbers on stdin, one per line.
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
{
	echo
	echo "### Confinement, interleaved ($rounds rounds of one run of each case)"
	echo
	echo "| case | median ms | ratio to the defaults | median paired difference to the defaults, ms |"
	echo "|---|---:|---:|---:|"
	for i in "${!conf_names[@]}"; do
		med=$(awk -F'\t' -v i="$i" '$2 == i { print $3 }' "$W/conf.tsv" | median)
		[ "$i" = 0 ] && base=$med
		diff=$(awk -F'\t' -v i="$i" '$2 == 0 { d[$1] = $3 } $2 == i { e[$1] = $3 } END { for (r in e) print d[r] - e[r] }' "$W/conf.tsv" | median)
		awk -v n="${conf_names[$i]}" -v m="$med" -v b="$base" -v d="$diff" -v i="$i" \
			'BEGIN { printf "| %s | %.2f | %.3f | %s |\n", n, m, m / b, (i == 0) ? "" : sprintf("%.3f", d) }'
	done
	echo
	echo "The filter is compiled once per run, in mdrun before the clone (about 15 us in a release"
	echo "build), and installed by the init with one seccomp(2) just before execve. --privileged also"
	echo "skips the dropped capabilities, the masked and read-only paths and the device list."
} | tee -a "$MDBENCH_REPORT"

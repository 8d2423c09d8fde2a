# Metric: resident memory per running detached container of the runtime's own processes:
# mdrun's supervisor vs podman's conmon (each is the container init's parent). RSS and PSS
# from /proc/PID/smaps_rollup over MDBENCH_MEM_COUNT (10) containers each. Sourced by
# bench/run.
mem_n=${MDBENCH_MEM_COUNT:-10}

# parents_of_sleep SECONDS...: the parent pid of each `sleep SECONDS` (unique durations).
parents_of_sleep() {
	local s p
	for s in "$@"; do
		p=$(pgrep -x -f "sleep $s" | head -1)
		[ -n "$p" ] && awk '{print $4}' "/proc/$p/stat"
	done
}

# mem_rows NAME PIDS...: one Markdown row of RSS, PSS and anonymous memory (KiB)
# median/min/max, plus the medians in MEM_RSS / MEM_PSS / MEM_ANON. Anonymous memory is what
# one more container adds whatever the number of containers: the binary's pages are shared
# (PSS divides them among the processes mapping them; RSS counts them in every one).
mem_rows() {
	local name=$1 p
	shift
	local -a rss=() pss=() anon=()
	for p in "$@"; do
		rss+=("$(awk '/^Rss:/{print $2}' "/proc/$p/smaps_rollup")")
		pss+=("$(awk '/^Pss:/{print $2}' "/proc/$p/smaps_rollup")")
		anon+=("$(awk '/^Anonymous:/{print $2}' "/proc/$p/smaps_rollup")")
	done
	mapfile -t rss < <(printf '%s\n' "${rss[@]}" | sort -n)
	mapfile -t pss < <(printf '%s\n' "${pss[@]}" | sort -n)
	mapfile -t anon < <(printf '%s\n' "${anon[@]}" | sort -n)
	local n=${#rss[@]} m=$(((${#rss[@]} - 1) / 2))
	MEM_RSS=${rss[$m]} MEM_PSS=${pss[$m]} MEM_ANON=${anon[$m]}
	MEM_ROW="| $name | $n | $MEM_RSS | ${rss[0]} | ${rss[$((n - 1))]} | $MEM_PSS | ${pss[0]} | ${pss[$((n - 1))]} | $MEM_ANON | ${anon[0]} | ${anon[$((n - 1))]} |"
}

"$BENCH/lib/idle" memory
durations=()
for i in $(seq "$mem_n"); do durations+=($((20000 + i))); done
for s in "${durations[@]}"; do $MDRUN run -d busybox sleep "$s" >/dev/null; done
mapfile -t md_pids < <(parents_of_sleep "${durations[@]}")
mem_rows "mdrun supervisor" "${md_pids[@]}"
md_row=$MEM_ROW md_rss=$MEM_RSS md_pss=$MEM_PSS md_anon=$MEM_ANON
if mdrun_has rm; then $MDRUN rm -f $($MDRUN ps -aq) >/dev/null; fi

pdurations=()
for i in $(seq "$mem_n"); do pdurations+=($((30000 + i))); done
for s in "${pdurations[@]}"; do $PODMAN_RUN -d "$PODMAN_IMAGE" sleep "$s" >/dev/null; done
mapfile -t pm_pids < <(parents_of_sleep "${pdurations[@]}")
mem_rows "podman's conmon" "${pm_pids[@]}"
pm_row=$MEM_ROW pm_rss=$MEM_RSS pm_pss=$MEM_PSS pm_anon=$MEM_ANON
$PODMAN rm -af -t 0 >/dev/null

{
	echo
	echo "### Resident memory per running detached container (runtime's own processes)"
	echo
	echo "| process | containers | RSS KiB median | min | max | PSS KiB median | min | max | anonymous KiB median | min | max |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	echo "$md_row"
	echo "$pm_row"
	echo
	echo "Ratio to conmon (median): RSS $(awk -v a="$md_rss" -v b="$pm_rss" 'BEGIN{printf "%.2f", a/b}'), PSS $(awk -v a="$md_pss" -v b="$pm_pss" 'BEGIN{printf "%.2f", a/b}'), anonymous $(awk -v a="$md_anon" -v b="$pm_anon" 'BEGIN{printf "%.2f", a/b}'). Each: \`run -d IMAGE sleep N\` $mem_n times; the process measured is the parent of the container's \`sleep\` (mdrun's supervisor; podman's conmon). Busy before: $(awk -F'\t' '$1=="memory"{print $2 "% (load " $3 ")"}' "$MDBENCH_IDLE_LOG")."
} | tee -a "$MDBENCH_REPORT"

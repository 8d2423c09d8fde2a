# Metric: 50 detached containers started at once, until all run. Sourced by bench/run.
# `run -d` returns once the command runs (mdrun: the supervisor reports the exec; podman:
# the container is "running"), so the time until the last of 50 parallel `run -d` returns is
# the time until all 50 run. Each run starts from none running (--prepare removes the
# previous 50; not timed).
par_n=${MDBENCH_PARALLEL:-50}
par_runs=${MDBENCH_PARALLEL_RUNS:-$RUNS}
if ! mdrun_has rm; then
	note "### $par_n \`run -d\` in parallel: not available (this mdrun has no \`rm\`)"
else
	mdrun_rm_all="ids=\$($MDRUN ps -aq); [ -z \"\$ids\" ] || $MDRUN rm -f \$ids >/dev/null"
	podman_rm_all="$PODMAN rm -af -t 0 >/dev/null"
	hyperfine --style basic -w 1 -r "$par_runs" \
		--setup "$BENCH/lib/idle parallel" --export-json "$W/parallel.json" \
		--prepare "$mdrun_rm_all" -n "mdrun" \
		"seq $par_n | xargs -P $par_n -I{} $MDRUN run -d --memory 100m busybox sleep 1000 >/dev/null" \
		--prepare "$podman_rm_all" -n "podman" \
		"seq $par_n | xargs -P $par_n -I{} $PODMAN_RUN -d --memory 100m $PODMAN_IMAGE sleep 1000 >/dev/null" >&2
	eval "$mdrun_rm_all"
	eval "$podman_rm_all"
	hyperfine_table "$par_n \`run -d\` in parallel, until all run" "$W/parallel.json" podman parallel \
		"\`seq $par_n | xargs -P $par_n\` of \`run -d --memory 100m IMAGE sleep 1000\`; $par_runs runs (+1 warm-up)."
fi

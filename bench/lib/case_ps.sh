# Metric: `ps -a` with MDBENCH_PS_COUNT (1,000) containers recorded. Sourced by bench/run.
#
# The records are real: mdrun runs `true` in that many named containers (no --rm), so each
# leaves an exited container with its record and write layer, as a user's would; podman
# `create`s as many (its cheapest way to a recorded container: they show as Created).
# Neither side writes records by hand.
ps_count=${MDBENCH_PS_COUNT:-1000}
if ! mdrun_has ps || ! mdrun_has rm; then
	note "### \`ps -a\` with $ps_count containers: not available (this mdrun has no \`ps\`/\`rm\`)"
else
	echo "bench/run: recording $ps_count containers for mdrun and podman" >&2
	seq "$ps_count" | xargs -P 2 -I{} $MDRUN run --name "mdb-ps-{}" busybox true
	seq "$ps_count" | xargs -P 2 -I{} $PODMAN_CREATE --name "mdb-ps-{}" "$PODMAN_IMAGE" true >/dev/null
	[ "$($MDRUN ps -aq | wc -l)" -ge "$ps_count" ] || { echo "bench/run: mdrun ps -a lists too few" >&2; exit 1; }
	hyperfine -N --style basic -w "$WARMUP" -r "$RUNS" \
		--setup "$BENCH/lib/idle ps" --export-json "$W/ps.json" \
		-n "mdrun ps -a" "$MDRUN ps -a" \
		-n "podman ps -a" "$PODMAN ps -a" >&2
	hyperfine_table "\`ps -a\` with $ps_count containers recorded" "$W/ps.json" "podman ps -a" ps \
		"Recorded by running \`true\` $ps_count times (mdrun: \`run --name\`, exited) and by \`podman create\` $ps_count times (podman: created)."
	$MDRUN rm -f $($MDRUN ps -aq) >/dev/null
	$PODMAN rm -af -t 0 >/dev/null
fi

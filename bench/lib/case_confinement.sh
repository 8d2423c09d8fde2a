# Metric: what mdrun's default confinement costs at start-up. The same `run --rm` of `true`
# as the start metric, with the seccomp filter, then everything (capabilities, masked and
# read-only paths, device list, filter) turned off; ratio to the default.
# Sourced by bench/run.

conf_cmds=(
	-n "mdrun (defaults)" "$MDRUN run --rm --memory 100m busybox true"
	-n "mdrun --security-opt seccomp=unconfined" "$MDRUN run --rm --memory 100m --security-opt seccomp=unconfined busybox true"
	-n "mdrun --privileged" "$MDRUN run --rm --memory 100m --privileged busybox true"
	-n "mdrun (defaults, again)" "$MDRUN run --rm --memory 100m busybox true"
)
hyperfine -N --style basic -w $((WARMUP * 3)) -r "$RUNS" \
	--setup "$BENCH/lib/idle confinement" \
	--export-json "$W/confinement.json" "${conf_cmds[@]}" >&2
hyperfine_table "Confinement: the defaults against seccomp off and \`--privileged\`" \
	"$W/confinement.json" "mdrun (defaults)" confinement \
	"The filter is compiled once per run, in mdrun before the clone (about 15 us in a release
build), and installed by the init with one seccomp(2) just before execve. --privileged also
skips the dropped capabilities, the masked and read-only paths and the device list."

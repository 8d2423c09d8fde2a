# Runs inside a throwaway network namespace (`unshare --net`, see case_network.sh): the
# bridges, veths, nftables tables and ip_forward that mdrun and podman make here die with it.
# Needs MDRUN, MDRUN_CONFIG (a store with `busybox`), RUNS, WARMUP, OUT (hyperfine's JSON);
# PODMAN_RUN (bench/lib/tools.sh's `podman run` with its --network=none, overridden here)
# and PODMAN_IMAGE for podman's rows (skipped when unset).
set -euo pipefail
ip link set lo up
# One bridged run first: the bridge, forwarding and the nftables table are made once per
# network (by the first container), not per container; the rows measure a container.
"$MDRUN" run --rm --network bridge busybox true
rows=(
	-n "mdrun --network none" "$MDRUN run --rm --network none busybox true"
	-n "mdrun --network bridge" "$MDRUN run --rm --network bridge busybox true"
	-n "mdrun --network bridge -p 8080:80" "$MDRUN run --rm --network bridge -p 8080:80 busybox true"
)
if [ -n "${PODMAN_RUN:-}" ]; then
	# podman 4.3 with netavark 1.4 (iptables driver) and its default network `podman`;
	# a second --network would add a network, not replace tools.sh's none.
	prun=${PODMAN_RUN/--network=none/}
	$prun --rm --network=bridge "$PODMAN_IMAGE" true
	rows+=(
		-n "podman --network none" "$prun --rm --network=none $PODMAN_IMAGE true"
		-n "podman --network bridge -p 8080:80" "$prun --rm --network=bridge -p 8080:80 $PODMAN_IMAGE true"
	)
fi
rows+=(-n "mdrun --network none (again, last)" "$MDRUN run --rm --network none busybox true")
hyperfine -N --style basic -w "$WARMUP" -r "$RUNS" --export-json "$OUT" "${rows[@]}" >&2

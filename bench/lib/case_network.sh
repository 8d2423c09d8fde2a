# Metric: what a network costs at start-up. `run --rm ... true` with `--network bridge`
# (and `-p 8080:80`) against `--network none` (target: +3 ms), and podman with netavark
# doing the same. Sourced by bench/run.
#
# All of it inside a throwaway network namespace (bench/lib/net_inner.sh under
# `unshare --net`), never the machine's own: no bridge, veth, nftables rule or ip_forward
# is made outside it, and they all go when its last process ends.
export MDRUN MDRUN_CONFIG RUNS WARMUP
# podman's network backend: netavark (Debian's 1.4), named, rather than CNI when both are there.
if dpkg -s netavark >/dev/null 2>&1; then
	{ cat "$CONTAINERS_CONF"; printf '[network]\nnetwork_backend = "netavark"\n'; } >"$W/podman/containers-net.conf"
	net_podman=(PODMAN_RUN="$PODMAN_RUN" PODMAN_IMAGE="$PODMAN_IMAGE" CONTAINERS_CONF="$W/podman/containers-net.conf")
else
	echo "bench: netavark is not installed (apt-get install netavark): no podman rows" >&2
	net_podman=()
fi
"$BENCH/lib/idle" network
env OUT="$W/network.json" "${net_podman[@]}" unshare --net bash "$BENCH/lib/net_inner.sh"
hyperfine_table "Networks: a bridged container with a published port against \`--network none\`" \
	"$W/network.json" "mdrun --network none" network
{
	echo
	echo "Inside a throwaway network namespace. The bridge, forwarding and mdrun's nftables"
	echo "table are made by the first bridged container (once per network, not timed); each row's"
	echo "container gets a veth, an address lease, hosts and resolv.conf, and with -p one"
	echo "nfnetlink batch adding its port to mdrun's map (and one removing it at the end)."
} | tee -a "$MDBENCH_REPORT"
# Throughput into a container over the bridge against loopback (iperf3), in a throwaway
# network namespace of its own.
if command -v iperf3 >/dev/null; then
	"$BENCH/lib/idle" network-iperf3
	env MDRUN="$MDRUN" MDRUN_CONFIG="$MDRUN_CONFIG" unshare --net bash "$BENCH/lib/net_iperf.sh" | tee -a "$MDBENCH_REPORT"
else
	echo "bench: iperf3 is not installed (apt-get install iperf3): no throughput rows" >&2
fi

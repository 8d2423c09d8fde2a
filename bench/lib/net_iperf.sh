# Throughput from the pretend host into a container over the bridge, against loopback
# (iperf3, Debian's). Runs inside a throwaway network namespace (`unshare --net`, see
# case_network.sh): the bridge, veth and nftables table die with it. The server is the
# host's iperf3 run in the container's network namespace (nsenter -n), so the path measured
# is the container's: its veth and mdrun's bridge. Needs MDRUN, MDRUN_CONFIG (a store with
# `busybox`); prints one Markdown table on stdout.
set -euo pipefail
SECS=${IPERF_SECS:-5}
ip link set lo up
gbps() { python3 -c 'import json,sys; print("%.1f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'; }
run_pair() { # $1: a pid whose network namespace runs the server, $2: its address
	nsenter -t "$1" -n iperf3 -s -1 -B "$2" >/dev/null 2>&1 &
	local spid=$! i
	for i in $(seq 200); do
		nsenter -t "$1" -n ss -Hltn "src $2:5201" | grep -q . && break
		sleep 0.05
	done
	timeout $((SECS + 30)) iperf3 -c "$2" -t "$SECS" -J | gbps
	wait "$spid" 2>/dev/null || true
}
lo=$(run_pair $$ 127.0.0.1)
"$MDRUN" run -d --name iperf-target --network bridge busybox sleep 600 >/dev/null
pid=$("$MDRUN" inspect -f '{{.State.Pid}}' iperf-target)
ip=$("$MDRUN" inspect -f '{{.NetworkSettings.IPAddress}}' iperf-target)
br=$(run_pair "$pid" "$ip")
"$MDRUN" rm -f iperf-target >/dev/null
echo
echo "Throughput, pretend host → container, iperf3 TCP, ${SECS} s each:"
echo
echo "| path | Gbit/s |"
echo "|---|---|"
echo "| loopback (127.0.0.1, the pretend host's own) | $lo |"
echo "| over mdrun's bridge into a container ($ip) | $br |"

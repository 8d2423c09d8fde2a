# The bare OCI cycle, as youki's README measures it: `create`, `start`, wait until the
# container is stopped, `delete`, of one bundle (`true`, the same config.json for all:
# oci_same_work), for mdrun-oci, crun and runc; one hyperfine invocation. Sourced by bench/run.

MDRUN_OCI=${MDBENCH_MDRUN_OCI:-$(dirname "$MDRUN")/mdrun-oci}
mkdir -p "$W/mdrun-oci" "$W/bundle-mdrun-oci"
oci_same_work "$ROOTFS" "$MDB_CG/mdrun-oci" '["true"]' >"$W/bundle-mdrun-oci/config.json"

# oci_cycle RUNTIME BUNDLE ID: one create + start + wait + delete, as a shell line.
oci_cycle() {
	local rt=$1 bundle=$2 id=$3
	echo "sh -c '$rt create --bundle $bundle $id </dev/null >/dev/null && $rt start $id && until $rt state $id | grep -q stopped; do :; done && $rt delete $id'"
}

hyperfine -N --style basic -w "$WARMUP" -r "$RUNS" \
	--setup "$BENCH/lib/idle oci" \
	--export-json "$W/oci.json" \
	-n "crun" "$(oci_cycle "$CRUN" "$W/bundle-crun" mdb-oci-crun)" \
	-n "mdrun-oci" "$(oci_cycle "$MDRUN_OCI --root $W/mdrun-oci" "$W/bundle-mdrun-oci" mdb-oci-mdrun)" \
	-n "runc" "$(oci_cycle "$RUNC" "$W/bundle-runc" mdb-oci-runc)" >&2

hyperfine_table "The OCI cycle: create + start + wait + delete of one bundle" "$W/oci.json" crun oci \
	"One shell line a run (sh, and a \`state\` poll until stopped, the same for every runtime);
the same config.json (oci_same_work: five namespaces and cgroup, /proc, /dev, /sys, 100 MB
limit, cgroupfs). youki's README reports this cycle as youki 111 ms, runc 225 ms, crun 47 ms."

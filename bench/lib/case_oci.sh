# mdrun-oci, the OCI runtime, beside crun and runc (issue 17), three tables, each one
# hyperfine invocation: the bare OCI cycle, as youki's README measures it (`create`, `start`,
# wait until the container is stopped, `delete`, of one bundle running `true`, the same
# config.json for all: oci_same_work); `podman run --rm` with each as podman's --runtime;
# `ctr run --rm` through containerd's runc v2 shim with each as the shim's binary.
# Sourced by bench/run.

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

# podman run --rm with each runtime: the same private store, --network=none, cgroupfs under
# ours, the same flags and image as the start metric's podman row (mdrun-oci is in
# containers.conf's runtime_supports_json, as crun and runc are by default).
podman_rt() {
	echo "$PODMAN --runtime $1 run --rm --network=none --pull=never --cgroup-parent=$MDB_CG/podman --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --memory 100m $PODMAN_IMAGE true"
}
hyperfine -N --style basic -w "$WARMUP" -r "$RUNS" \
	--setup "$BENCH/lib/idle oci-podman" \
	--export-json "$W/oci-podman.json" \
	-n "podman + crun" "$(podman_rt "$(command -v crun)")" \
	-n "podman + mdrun-oci" "$(podman_rt "$MDRUN_OCI")" \
	-n "podman + runc" "$(podman_rt "$(command -v runc)")" >&2

hyperfine_table "\`podman run --rm\` with each runtime as podman's --runtime" "$W/oci-podman.json" "podman + crun" oci-podman \
	"\`podman --runtime RT run --rm --network=none --memory 100m\` of \`true\` (private store,
cgroupfs, conmon $(conmon --version | awk 'NR==1{print $3}')); the same for each runtime; the difference between rows is the
runtime's \`create\`, \`start\`, \`state\` and \`delete\` as conmon and podman call them."

# The same, each call of the runtime timed, in interleaved rounds (robust on a busy machine).
source "$BENCH/lib/oci_verbs.sh"

# ctr run --rm through the runc v2 shim. crun 1.8.1 refuses hybrid cgroups; bench/run's
# namespace hides the unified hierarchy, so it may run here: it gets a row when one trial
# run succeeds, else the table says why not.
source "$BENCH/lib/oci_ctr.sh"
ctr_setup
ctr_cmds=(-n "ctr + mdrun-oci" "$(ctr_run_cmd mdrun-oci "$MDRUN_OCI")" -n "ctr + runc" "$(ctr_run_cmd runc "$(command -v runc)")")
ctr_note=""
if crun_err=$($(ctr_run_cmd crun "$(command -v crun)") 2>&1); then
	ctr_cmds+=(-n "ctr + crun" "$(ctr_run_cmd crun "$(command -v crun)")")
else
	ctr_note="crun: no row, a trial run failed: $(echo "$crun_err" | tail -1 | cut -c1-200)"
fi
hyperfine -N --style basic -w "$WARMUP" -r "$RUNS" \
	--setup "$BENCH/lib/idle oci-ctr" \
	--export-json "$W/oci-ctr.json" "${ctr_cmds[@]}" >&2

hyperfine_table "\`ctr run --rm\` through containerd 1.6's runc v2 shim" "$W/oci-ctr.json" "ctr + runc" oci-ctr \
	"\`ctr run --rm --runc-binary RT --cgroup <ours>/ctr-RT\` of \`true\` against a private containerd
$(containerd --version | awk '{print $3}') (CRI disabled, busybox imported as an OCI archive, overlayfs snapshots).
Most of a run is containerd's (the shim's start, the snapshot, the fifos). $ctr_note"
ctr_teardown

#!/bin/bash
# critest (kubernetes-sigs/cri-tools 1.26.1's CRI validation suite) against containerd 1.6's
# CRI plugin with mdrun-oci as the runc runtime's BinaryName (issue 17, proof 5). Not in CI:
# it takes a few minutes. As root:
#
#   scripts/critest.sh [RUNTIME]     RUNTIME: default target/release/mdrun-oci (built when
#                                    missing); `scripts/critest.sh /usr/sbin/runc` gives the
#                                    reference count under the very same set-up
#
# Prints "mdrun-oci: N of M passed (runc 1.1.5: 56 of 85)" and the failing specs with the
# first line of each failure; the full log and JUnit report are copied to
# MDCRITEST_OUT (default target/critest/<runtime name>/).
#
# Set-up, as ../shared/docs/oci.md describes runc's 56 of 85 run:
# - crictl/critest built offline by ../shared/tools/oci-suites (cached in
#   MDRUN_OCI_SUITES_DIR, default /var/cache/mdrun-oci-suites);
# - Debian's docker-registry 2.8 (tests/fixtures/registry-bin.sh, never installed as a
#   service) on 127.0.0.1, holding the busybox rootfs (scripts/busybox-rootfs.sh, Debian's
#   busybox-static) as e2e-test-images/busybox:{latest,1.29-2} and the static pause
#   (../shared/tools/oci/pause.c) as pause:3.9; critest runs with --registry-prefix, which
#   drops tags, so busybox is also tagged locally as registry.k8s.io/e2e-test-images/busybox:1.29-2;
# - pods get their network from ../shared/tools/oci/cni-isolated (a veth pair whose both
#   ends stay in the pod) plus Debian's loopback plugin: nothing changes on the host;
# - restrict_oom_score_adj = true (no CAP_SYS_RESOURCE here), SystemdCgroup = false.
#
# Leaves nothing behind: it runs in a private mount namespace with tmpfs over /run/containerd
# and /run/netns (the shim's sockets, the pods' netns pins); containerd's root, state and
# socket, the registry's storage and the runtime's --root live in one work directory under
# /var/lib; one cgroup <our memory cgroup>/mdbench-<pid> is made in every v1 hierarchy
# (bench/lib/cgroups.sh) and the runtime is called through a wrapper that puts containerd's
# absolute cgroupsPath (/k8s.io/<id>) under it. At exit it removes the pods, stops the shims,
# containerd and the registry by pid, removes the cgroups, and fails if anything is left.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "critest.sh: run as root" >&2; exit 1; }
RUNC_REF="runc 1.1.5: 56 of 85"

# --- Outside the namespace: the runtime, the suites, the registry binary. ---
if [ -z "${MDCRITEST_INNER:-}" ]; then
	rt=${1:-$REPO/target/release/mdrun-oci}
	if [ $# -eq 0 ] && [ ! -x "$rt" ]; then
		echo "critest.sh: building mdrun-oci (release)" >&2
		(cd "$REPO" && cargo build --release --quiet --bin mdrun-oci)
	fi
	rt=$(command -v "$rt" || true)
	[ -n "$rt" ] && rt=$(realpath "$rt")
	[ -n "$rt" ] && [ -x "$rt" ] || { echo "critest.sh: runtime ${1:-mdrun-oci} not found" >&2; exit 1; }
	shared=
	for d in "$REPO/../shared" "$REPO/../../shared"; do [ -d "$d/tools" ] && shared=$(cd "$d" && pwd) && break; done
	[ -n "$shared" ] || { echo "critest.sh: ../shared/tools not found" >&2; exit 1; }
	suites=${MDRUN_OCI_SUITES_DIR:-/var/cache/mdrun-oci-suites}
	[ -x "$suites/bin/critest" ] || bash "$shared/tools/oci-suites" build "$suites" >&2
	for c in containerd ctr skopeo jq cc python3; do
		command -v $c >/dev/null || { echo "critest.sh: $c is missing (containerd, skopeo, jq, gcc, python3)" >&2; exit 1; }
	done
	[ -x /usr/lib/cni/loopback ] || { echo "critest.sh: apt-get install containernetworking-plugins (loopback)" >&2; exit 1; }
	registry=$(bash "$REPO/tests/fixtures/registry-bin.sh")
	export MDCRITEST_INNER=1 MDCRITEST_RT=$rt MDCRITEST_SHARED=$shared MDCRITEST_SUITES=$suites \
		MDCRITEST_REGISTRY=$registry
	exec unshare --mount --propagation private -- "$0" "$@"
fi

# --- Inside the private mount namespace. ---
RT=$MDCRITEST_RT
NAME=$(basename "$RT")
OUT=${MDCRITEST_OUT:-$REPO/target/critest/$NAME}
mkdir -p /var/lib/mdcritest "$OUT"
W=$(mktemp -d /var/lib/mdcritest/w.XXXXXX)
PIDS=() # containerd and the registry, ended by pid
MADE_DIRS=()

source "$REPO/bench/lib/cgroups.sh"
source "$REPO/scripts/critest/cleanup.sh"
trap 'rc=$?; trap - EXIT; critest_cleanup || rc=1; exit $rc' EXIT
trap 'exit 130' INT TERM

# tmpfs over the two host directories containerd's CRI writes outside its root.
for d in /run/containerd /run/netns; do
	if [ ! -d "$d" ]; then
		mkdir -p "$d"
		MADE_DIRS+=("$d")
	fi
	mount -t tmpfs -o size=16m,mode=755 mdcritest "$d"
done

cg_setup # MDB_CG, and this shell moved into it (containerd and its shims follow)

source "$REPO/scripts/critest/images.sh"
source "$REPO/scripts/critest/containerd.sh"

start_registry
push_images
start_containerd
pull_images

echo "critest.sh: running critest against $RT (a few minutes)" >&2
set +e
"$MDCRITEST_SUITES/bin/critest" \
	--runtime-endpoint "unix://$W/c.sock" --image-endpoint "unix://$W/c.sock" \
	--registry-prefix "127.0.0.1:$PORT" \
	--ginkgo.no-color --ginkgo.junit-report "$W/junit.xml" >"$W/critest.log" 2>&1
crc=$?
set -e
cp "$W/critest.log" "$OUT/critest.log"
[ -s "$W/junit.xml" ] && cp "$W/junit.xml" "$OUT/junit.xml"
python3 "$REPO/scripts/critest/summary.py" "$W/junit.xml" "$NAME" "$RUNC_REF" | tee "$OUT/summary.txt"
echo "critest.sh: critest exited $crc; log and JUnit report in $OUT" >&2

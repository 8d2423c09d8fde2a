#!/bin/bash
# Ships runtime-tools' validation suite into a tier's share, for the oci_validation
# scenarios: built on this host by ../shared/tools/oci-suites (Go with CGO_ENABLED=0, so the
# binaries are static and run in the guest as they are) into a cache, then stripped (9p under
# TCG reads a third of the bytes) beside the tool that runs them, and Debian's runc when this
# host has one (oci_validation_runc compares with it).
#
#   bash tests/vm/ship-oci-suites.sh SHARE [SCENARIO...]
#
# Does nothing unless the scenario list is empty (every scenario) or names an oci_validation
# one. Env: MDRUN_OCI_SUITES_DIR, the cache (default /var/cache/mdrun-oci-suites).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
share=${1:?usage: ship-oci-suites.sh SHARE [SCENARIO...]}
shift
[ $# -eq 0 ] || [[ " $* " == *" oci_validation"* ]] || exit 0
tool=
for t in "$repo/../shared/tools/oci-suites" "$repo/../../shared/tools/oci-suites"; do
	[ -e "$t" ] && { tool=$t; break; }
done
[ -n "$tool" ] || { echo "ship-oci-suites: no ../shared/tools/oci-suites: oci_validation will fail" >&2; exit 0; }
suites=${MDRUN_OCI_SUITES_DIR:-/var/cache/mdrun-oci-suites}
[ -x "$suites/rt/src/runtimetest" ] || flock "$suites.lock" bash "$tool" build "$suites" >&2 # the lock: as tests/oci/suites.rs
src=$suites/rt/src dst=$share/oci-suites/rt/src
ship() { # FROM TO: stripped when strip can
	mkdir -p "$(dirname "$2")"
	strip -o "$2" "$1" 2>/dev/null || install -m 0755 "$1" "$2"
}
for t in "$src"/validation/*/*.t; do
	n=$(basename "$t" .t)
	ship "$t" "$dst/validation/$n/$n.t"
done
ship "$src/runtimetest" "$dst/runtimetest"
install -m 0644 "$src/rootfs-amd64.tar.gz" "$dst/"
install -m 0755 "$tool" "$share/oci-suites/oci-suites"
if command -v runc >/dev/null; then install -m 0755 "$(command -v runc)" "$share/runc"; fi
echo "ship-oci-suites: $(du -sh "$share/oci-suites" | cut -f1) in $share/oci-suites" >&2

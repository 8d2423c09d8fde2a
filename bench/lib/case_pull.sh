# Metric: `pull` of a five-layer ~200 MB image from a local registry (Debian's
# docker-registry 2.8 on 127.0.0.1, plain HTTP) into an empty store: mdrun against
# `podman pull` (its own --root under $W) and `skopeo copy` to an OCI directory, in one
# hyperfine run; then a second pull of the same image (everything already there: the
# target is under 50 ms). Sourced by bench/run.
#
# The image: busybox plus four layers of 50 MiB of random data each (made with `run` +
# `commit`, pushed with `mdrun push`; random, so compression buys nobody anything). Every
# timed run starts from an empty store (--prepare, not timed: the store removed, `sync`).
pull_runs=${MDBENCH_PULL_RUNS:-10}
pd=$W/pull
mkdir -p "$pd/registry"
if ! mdrun_has push; then
	note "### \`pull\`: not available (this mdrun has no \`push\` to put the image in the registry)"
	return 0
fi

# The registry binary, as the tests take it (apt-get download + dpkg -x: installing the
# package would start a service on every interface).
reg_cache=${MDRUN_REGISTRY_CACHE:-/var/cache/mdrun-test-registry}
reg_bin=$reg_cache/usr/bin/docker-registry
if [ ! -x "$reg_bin" ]; then
	mkdir -p "$reg_cache/debs"
	(cd "$reg_cache/debs" && apt-get download -q docker-registry >/dev/null)
	dpkg -x "$(ls "$reg_cache"/debs/*.deb | head -1)" "$reg_cache"
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$pd/registry/config.yml" <<-YML
	version: 0.1
	log:
	  level: error
	  accesslog:
	    disabled: true
	storage:
	  filesystem:
	    rootdirectory: $pd/registry/storage
	http:
	  addr: 127.0.0.1:$port
YML
"$reg_bin" serve "$pd/registry/config.yml" >"$pd/registry/log" 2>&1 &
reg_pid=$!
for _ in $(seq 100); do
	curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
	sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null

prev=busybox
for i in 1 2 3 4; do
	$MDRUN run --name "mdb-pull-$i" "$prev" sh -c "head -c 52428800 /dev/urandom >/layer$i"
	$MDRUN commit "mdb-pull-$i" "mdb-pull:$i" >/dev/null
	$MDRUN rm "mdb-pull-$i" >/dev/null
	prev=mdb-pull:$i
done
REF=127.0.0.1:$port/bench/big:1
$MDRUN push -q "$prev" "$REF" >/dev/null
size_mb=$(du -sm "$pd/registry/storage" | cut -f1)

# mdrun pulls into a store of its own, emptied before every run.
cat >"$pd/mdrun.toml" <<-TOML
	root = "$pd/md/root"
	run_root = "$pd/md/run"
	cgroup_manager = "cgroupfs"
TOML
PULL_MD="env MDRUN_CONFIG=$pd/mdrun.toml $MDRUN"
hyperfine --style basic -w 1 -r "$pull_runs" \
	--setup "$BENCH/lib/idle pull" --export-json "$W/pull.json" \
	--prepare "rm -rf $pd/md; sync" -n "mdrun pull" "$PULL_MD pull -q $REF" \
	--prepare "$PODMAN rmi -f $REF >/dev/null 2>&1; sync" -n "podman pull" "$PODMAN pull -q --tls-verify=false $REF" \
	--prepare "rm -rf $pd/oci; sync" -n "skopeo copy" "skopeo copy -q --src-tls-verify=false docker://$REF oci:$pd/oci:big" >&2
hyperfine_table "\`pull\` of a five-layer $size_mb MB image from a registry on 127.0.0.1" "$W/pull.json" "podman pull" pull \
	"Into an empty store each time: podman $(podman --version | awk '{print $3}') (overlay storage under \$W), skopeo $(skopeo --version | awk '{print $3}') copying to an OCI layout (no unpacking: a floor for the transfer). $pull_runs runs (+1 warm-up). Target: mdrun <= 0.8 x podman."

# A second pull of the same image: every layer is there, no blob is fetched.
$PULL_MD pull -q "$REF" >/dev/null
$PODMAN pull -q --tls-verify=false "$REF" >/dev/null
hyperfine --style basic -w 3 -r "$RUNS" -N \
	--setup "$BENCH/lib/idle pull-again" --export-json "$W/pull-again.json" \
	-n "mdrun pull (again)" "$PULL_MD pull -q $REF" \
	-n "podman pull (again)" "$PODMAN pull -q --tls-verify=false $REF" >&2
hyperfine_table "a second \`pull\` of the same image" "$W/pull-again.json" "podman pull (again)" pull-again \
	"Everything already stored: the manifest is fetched again, no blob. Target: mdrun under 50 ms. $RUNS runs (+3 warm-up)."

kill "$reg_pid"
wait "$reg_pid" 2>/dev/null || true
$PODMAN rmi -f "$REF" >/dev/null 2>&1 || true
$MDRUN rmi mdb-pull:4 mdb-pull:3 mdb-pull:2 mdb-pull:1 >/dev/null
rm -rf "$pd"

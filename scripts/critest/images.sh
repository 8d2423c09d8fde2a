# The registry on 127.0.0.1 and the two images critest needs here: busybox (Debian's
# busybox-static, scripts/busybox-rootfs.sh) and the static pause. Sourced by
# scripts/critest.sh (uses W, REPO, PIDS, MDCRITEST_REGISTRY, MDCRITEST_SHARED).

source "$REPO/bench/lib/oci_image.sh"

start_registry() {
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir -p "$W/registry/storage"
	cat >"$W/registry/config.yml" <<-YML
		version: 0.1
		log:
		  level: warn
		storage:
		  filesystem:
		    rootdirectory: $W/registry/storage
		http:
		  addr: 127.0.0.1:$PORT
	YML
	"$MDCRITEST_REGISTRY" serve "$W/registry/config.yml" </dev/null >"$W/registry/log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 500); do
		(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
		sleep 0.02
	done
	echo "critest.sh: the registry did not listen on $PORT: $(cat "$W/registry/log")" >&2
	return 1
}

push_images() {
	local policy=$W/policy.json
	echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$policy"
	bash "$REPO/scripts/busybox-rootfs.sh" "$W/busybox.tar"
	oci_layout "$W/layout-busybox" "$W/busybox.tar" '{"Cmd":["sh"]}' latest
	mkdir -p "$W/pause-root"
	cc -static -O2 -o "$W/pause-root/pause" "$MDCRITEST_SHARED/tools/oci/pause.c"
	tar --owner=0 --group=0 -cf "$W/pause.tar" -C "$W/pause-root" pause
	oci_layout "$W/layout-pause" "$W/pause.tar" '{"Entrypoint":["/pause"]}' latest
	local t
	for t in latest 1.29-2; do
		skopeo --policy "$policy" copy -q --dest-tls-verify=false "oci:$W/layout-busybox:latest" \
			"docker://127.0.0.1:$PORT/e2e-test-images/busybox:$t" >&2
	done
	skopeo --policy "$policy" copy -q --dest-tls-verify=false "oci:$W/layout-pause:latest" \
		"docker://127.0.0.1:$PORT/pause:3.9" >&2
}

# After containerd is up: busybox pulled through the CRI, and tagged under the name
# critest creates its containers with (--registry-prefix only rewrites what it pulls).
pull_images() {
	crictl pull "127.0.0.1:$PORT/e2e-test-images/busybox:1.29-2" >/dev/null
	crictl pull "127.0.0.1:$PORT/pause:3.9" >/dev/null
	ctr -a "$W/c.sock" -n k8s.io images tag "127.0.0.1:$PORT/e2e-test-images/busybox:1.29-2" \
		registry.k8s.io/e2e-test-images/busybox:1.29-2 >/dev/null
}

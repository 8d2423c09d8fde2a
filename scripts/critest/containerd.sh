# A private containerd 1.6 with its CRI plugin running the runtime under test. Sourced by
# scripts/critest.sh (uses W, RT, PORT, MDB_CG, PIDS, MDCRITEST_SHARED, MDCRITEST_SUITES).

crictl() {
	timeout 120 "$MDCRITEST_SUITES/bin/crictl" --runtime-endpoint "unix://$W/c.sock" \
		--image-endpoint "unix://$W/c.sock" --timeout 60s "$@"
}

# The runtime as the shim calls it, with containerd's absolute cgroupsPath (/k8s.io/<id>, as
# critest's pods have no cgroup_parent) moved under our own cgroup: nothing is made at the
# root of a hierarchy. Everything else reaches the runtime unchanged.
write_wrapper() {
	mkdir -p "$W/bin"
	cat >"$W/bin/oci-runtime" <<-SH
		#!/bin/bash
		b=
		prev=
		for a in "\$@"; do
			case \$prev in --bundle | -b) b=\$a ;; esac
			case \$a in --bundle=*) b=\${a#--bundle=} ;; esac
			prev=\$a
		done
		if [ -n "\$b" ] && [ -f "\$b/config.json" ]; then
			jq -c --arg p "$MDB_CG" '
				if (.linux.cgroupsPath // "" | startswith("/")) and (.linux.cgroupsPath | startswith(\$p + "/") | not)
				then .linux.cgroupsPath = \$p + .linux.cgroupsPath else . end' "\$b/config.json" >"\$b/config.json.critest" &&
				mv "\$b/config.json.critest" "\$b/config.json"
		fi
		exec "$RT" "\$@"
	SH
	chmod 755 "$W/bin/oci-runtime"
}

start_containerd() {
	write_wrapper
	mkdir -p "$W/cni-bin" "$W/cni-conf" "$W/runtime-root"
	cp "$MDCRITEST_SHARED/tools/oci/cni-isolated" "$W/cni-bin/cni-isolated"
	ln -s /usr/lib/cni/loopback "$W/cni-bin/loopback"
	echo '{"cniVersion": "0.4.0", "name": "isolated", "plugins": [{"type": "cni-isolated"}]}' \
		>"$W/cni-conf/10-isolated.conflist"
	cat >"$W/containerd.toml" <<-TOML
		version = 2
		root = "$W/root"
		state = "$W/state"
		[grpc]
		  address = "$W/c.sock"
		[ttrpc]
		  address = "$W/c.sock.ttrpc"
		[debug]
		  address = ""
		[metrics]
		  address = ""
		[plugins."io.containerd.grpc.v1.cri"]
		  sandbox_image = "127.0.0.1:$PORT/pause:3.9"
		  restrict_oom_score_adj = true
		  enable_selinux = false
		  [plugins."io.containerd.grpc.v1.cri".cni]
		    bin_dir = "$W/cni-bin"
		    conf_dir = "$W/cni-conf"
		  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."127.0.0.1:$PORT"]
		    endpoint = ["http://127.0.0.1:$PORT"]
		  [plugins."io.containerd.grpc.v1.cri".containerd]
		    default_runtime_name = "runc"
		    snapshotter = "overlayfs"
		    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
		      runtime_type = "io.containerd.runc.v2"
		      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
		        BinaryName = "$W/bin/oci-runtime"
		        Root = "$W/runtime-root"
		        SystemdCgroup = false
	TOML
	containerd --config "$W/containerd.toml" </dev/null >"$W/containerd.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 1500); do
		[ -S "$W/c.sock" ] && ctr -a "$W/c.sock" version >/dev/null 2>&1 && return 0
		sleep 0.02
	done
	echo "critest.sh: containerd did not come up: $(tail -20 "$W/containerd.log")" >&2
	return 1
}

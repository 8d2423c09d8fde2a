# A private containerd 1.6 (CRI disabled) for the `ctr run --rm` rows of the oci metric:
# root, state and socket under $W, busybox imported as an OCI archive, a tmpfs over
# /run/containerd (the 1.6 shim always puts its sockets in /run/containerd/s; we are in
# bench/run's private mount namespace). ctr_teardown runs from cleanup_all. Sourced by
# bench/lib/case_oci.sh.

source "$BENCH/lib/oci_image.sh"

ctr_setup() {
	CTRD=$W/containerd
	mkdir -p "$CTRD/fifo" "$CTRD/runc-root"
	if [ ! -d /run/containerd ]; then
		mkdir /run/containerd
		echo /run/containerd >"$W/made-containerd-dir"
	fi
	mount -t tmpfs -o size=16m,mode=711 mdbench-containerd /run/containerd
	cat >"$CTRD/config.toml" <<-TOML
		version = 2
		root = "$CTRD/root"
		state = "$CTRD/state"
		disabled_plugins = ["io.containerd.grpc.v1.cri"]
		[grpc]
		  address = "$CTRD/c.sock"
		[ttrpc]
		  address = "$CTRD/c.sock.ttrpc"
		[debug]
		  address = ""
		[metrics]
		  address = ""
	TOML
	containerd --config "$CTRD/config.toml" </dev/null >"$CTRD/log" 2>&1 &
	CTRD_PID=$!
	CTR="ctr -a $CTRD/c.sock -n mdbench"
	local _
	for _ in $(seq 1500); do
		[ -S "$CTRD/c.sock" ] && $CTR version >/dev/null 2>&1 && break
		sleep 0.02
	done
	$CTR version >/dev/null || { echo "bench/run: containerd did not start: $(tail -5 "$CTRD/log")" >&2; return 1; }
	oci_layout "$CTRD/layout" "$TAR" '{"Cmd":["sh"]}' latest
	tar -cf "$CTRD/busybox-oci.tar" -C "$CTRD/layout" .
	$CTR images import --base-name localhost/mdbench-bb "$CTRD/busybox-oci.tar" >/dev/null
	CTR_IMAGE=localhost/mdbench-bb:latest
}

# ctr_run_cmd NAME BINARY: one `ctr run --rm` of `true` through the runc v2 shim with BINARY
# as its runtime, in a cgroup under ours (the same flags for every runtime).
ctr_run_cmd() {
	local name=$1 bin=$2
	echo "$CTR run --rm --runc-binary $bin --runc-root $CTRD/runc-root/$name --fifo-dir $CTRD/fifo --cgroup $MDB_CG/ctr-$name $CTR_IMAGE mdb-ctr-$name true"
}

# Processes whose command line names our containerd's socket (its shims).
ctr_shim_pids() {
	local f p
	for f in /proc/[0-9]*/cmdline; do
		p=${f#/proc/}
		p=${p%/cmdline}
		[ "$p" = $$ ] && continue
		tr '\0' ' ' 2>/dev/null <"$f" | grep -qF -- "$CTRD/c.sock" && echo "$p"
	done
	return 0
}

# Removes tasks, containers and the image, stops the shims and containerd (by pid), and
# the tmpfs; whatever a run left is a leak. Returns 1 then.
ctr_teardown() {
	local leaked=0 c p
	[ -n "${CTRD_PID:-}" ] || return 0
	for c in $($CTR containers ls -q 2>/dev/null); do
		echo "leak: containerd container $c left" >&2
		leaked=1
		$CTR tasks kill -s KILL "$c" >/dev/null 2>&1
		$CTR tasks delete -f "$c" >/dev/null 2>&1
		$CTR containers delete "$c" >/dev/null 2>&1
	done
	$CTR images rm "$CTR_IMAGE" >/dev/null 2>&1
	for p in $(ctr_shim_pids); do
		echo "leak: containerd shim $p left" >&2
		leaked=1
		kill -KILL "$p" 2>/dev/null
	done
	kill -TERM "$CTRD_PID" 2>/dev/null
	wait "$CTRD_PID" 2>/dev/null
	CTRD_PID=
	# containerd's snapshots and the shim's mounts (private to this namespace).
	while read -r m; do umount -l "$m"; done < <(awk -v w="$CTRD/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
	umount -l /run/containerd
	# Ours only while it is empty: a containerd test elsewhere on the machine may have put
	# its own /run/containerd/s there meanwhile (seen), and that is not ours to remove.
	if [ -s "$W/made-containerd-dir" ] && ! rmdir /run/containerd 2>/dev/null; then
		echo "bench/run: /run/containerd (made here) now holds another user's files: left" >&2
	fi
	return $leaked
}

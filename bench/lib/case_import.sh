# Metric: `import` of a 200 MB root filesystem tarball vs GNU tar extracting it, and
# `commit` of a 200 MB write layer vs GNU tar creating one from it. Sourced by bench/run.
#
# The tarball: the busybox rootfs plus 150 MiB in 150 random 1 MiB files and 50 MiB in
# 12,800 random 4 KiB files (a Debian rootfs has ~12k files), random so that no layer of
# either side can compress or deduplicate it. Every run starts after `sync` and with the
# previous result removed (--prepare; not timed): both sides write 200 MB to the same disk.
import_runs=${MDBENCH_IMPORT_RUNS:-$RUNS}
big=$W/big
mkdir -p "$big/rootfs/big" "$big/rootfs/small"
tar -xf "$TAR" -C "$big/rootfs"
for i in $(seq 150); do head -c 1048576 /dev/urandom >"$big/rootfs/big/f$i"; done
head -c $((12800 * 4096)) /dev/urandom | split -b 4096 -a 4 - "$big/rootfs/small/f"
tar -cf "$big/rootfs.tar" -C "$big/rootfs" .
rm -rf "$big/rootfs"
size_mb=$(($(stat -c %s "$big/rootfs.tar") / 1000000))

hyperfine --style basic -w 2 -r "$import_runs" \
	--setup "$BENCH/lib/idle import" --export-json "$W/import.json" \
	--prepare "$MDRUN rmi mdb-big >/dev/null 2>&1; sync" -n "mdrun import" "$MDRUN import $big/rootfs.tar mdb-big" \
	--prepare "rm -rf $big/x; mkdir $big/x; sync" -n "tar -x" "tar -xf $big/rootfs.tar -C $big/x" >&2
$MDRUN rmi mdb-big >/dev/null 2>&1 || true
rm -rf "$big/x"
hyperfine_table "\`import\` of a $size_mb MB rootfs tarball" "$W/import.json" "tar -x" import \
	"GNU tar $(tar --version | awk 'NR==1{print $4}') extracting the same tarball into an empty directory on the same filesystem; $import_runs runs (+2 warm-up). Disk-bound: the virtual disk's writeback and discards make single runs vary 5x."

if ! mdrun_has commit; then
	note "### \`commit\` of a 200 MB write layer: not available (this mdrun has no \`commit\`)"
else
	# The write layers: containers that unpack the same 200 MB into their root. A commit
	# of a stopped container moves its write layer into the store, so every run commits
	# a fresh one (made by --prepare, not timed); `tar -c` reads one that stays put; a
	# running container (frozen, its write layer copied) is committed as it always was.
	unpack="tar -xf /in/rootfs.tar -C /"
	fresh="$MDRUN rmi mdb-committed >/dev/null 2>&1; $MDRUN rm -f mdb-commit >/dev/null 2>&1; $MDRUN run --name mdb-commit -v $big:/in:ro busybox $unpack && sync"
	$MDRUN run --name mdb-commit-ref -v "$big:/in:ro" busybox $unpack
	$MDRUN run -d --name mdb-commit-live -v "$big:/in:ro" busybox sh -c "$unpack && touch /unpacked && exec sleep 100000" >/dev/null
	upper=$W/mdrun/root/containers/$($MDRUN inspect mdb-commit-ref | jq -r '.[0].Id')/upper
	live=$W/mdrun/root/containers/$($MDRUN inspect mdb-commit-live | jq -r '.[0].Id')/upper
	[ -d "$upper" ] || { echo "bench/run: no write layer at $upper" >&2; exit 1; }
	while [ ! -e "$live/unpacked" ]; do sleep 0.2; done
	hyperfine --style basic -w 2 -r "$import_runs" \
		--setup "$BENCH/lib/idle commit" --export-json "$W/commit.json" \
		--prepare "$fresh" -n "mdrun commit (stopped container)" "$MDRUN commit mdb-commit mdb-committed" \
		--prepare "$MDRUN rmi mdb-committed-live >/dev/null 2>&1; sync" -n "mdrun commit (running container)" "$MDRUN commit mdb-commit-live mdb-committed-live" \
		--prepare "rm -f $big/out.tar; sync" -n "tar -c" "tar -cf $big/out.tar -C $upper ." \
		--prepare "rm -rf $big/y; mkdir $big/y; sync" -n "tar -c, piped to tar -x" "tar -cf - -C $upper . | tar -xf - -C $big/y" >&2
	rm -rf "$big/y" "$big/out.tar"
	$MDRUN rmi mdb-committed mdb-committed-live >/dev/null 2>&1 || true
	$MDRUN rm -f mdb-commit mdb-commit-ref mdb-commit-live >/dev/null
	hyperfine_table "\`commit\` of a 200 MB write layer" "$W/commit.json" "tar -c" commit \
		"GNU tar creating a tarball of the same write layer; the piped row also unpacks it, as a
commit that copies must (the new layer is a directory that overlayfs stacks). A stopped
container's write layer is hashed (the layer's id) and moved into the store; a running one
is frozen and copied (tar, hash and unpack on three threads). $import_runs runs (+2 warm-up)."
fi
rm -rf "$big"

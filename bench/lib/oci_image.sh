# A one-layer OCI image layout from a rootfs tarball, with jq and sha256sum: what
# scripts/critest.sh pushes to its registry and bench/lib/oci_ctr.sh imports into containerd.

# oci_layout DIR LAYER_TAR CONFIG_JSON TAG: a one-layer OCI image layout (gzip layer).
oci_layout() {
	local dir=$1 tar=$2 cfg=$3 tag=$4 diff lsha lsize csha csize msha msize
	mkdir -p "$dir/blobs/sha256"
	diff=$(sha256sum "$tar" | cut -d' ' -f1)
	gzip -n -c "$tar" >"$dir/layer.gz"
	lsha=$(sha256sum "$dir/layer.gz" | cut -d' ' -f1)
	lsize=$(stat -c %s "$dir/layer.gz")
	mv "$dir/layer.gz" "$dir/blobs/sha256/$lsha"
	jq -nc --argjson c "$cfg" --arg d "sha256:$diff" \
		'{architecture: "amd64", os: "linux", config: $c, rootfs: {type: "layers", diff_ids: [$d]}}' >"$dir/config.json"
	csha=$(sha256sum "$dir/config.json" | cut -d' ' -f1)
	csize=$(stat -c %s "$dir/config.json")
	mv "$dir/config.json" "$dir/blobs/sha256/$csha"
	jq -nc --arg c "sha256:$csha" --argjson cs "$csize" --arg l "sha256:$lsha" --argjson ls "$lsize" '{
		schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
		config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
		layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $l, size: $ls}]}' >"$dir/manifest.json"
	msha=$(sha256sum "$dir/manifest.json" | cut -d' ' -f1)
	msize=$(stat -c %s "$dir/manifest.json")
	mv "$dir/manifest.json" "$dir/blobs/sha256/$msha"
	jq -nc --arg m "sha256:$msha" --argjson ms "$msize" --arg t "$tag" '{schemaVersion: 2,
		manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
		annotations: {"org.opencontainers.image.ref.name": $t}}]}' >"$dir/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
}

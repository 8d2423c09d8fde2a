//! OCI image layouts written by the tests (`oci-layout`, `index.json`, `blobs/sha256/*`),
//! put into a registry with skopeo: images with ENTRYPOINT/CMD/ENV/WORKDIR/USER/
//! STOPSIGNAL, multi-platform indexes, gzip, zstd or plain layers.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Command;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Comp {
    Plain,
    Gzip,
    Zstd,
}

pub struct Layer {
    pub blob: Vec<u8>,
    pub media_type: &'static str,
    /// `sha256:<hex>` of the uncompressed tar.
    pub diff_id: String,
}

impl Layer {
    pub fn digest(&self) -> String {
        digest(&self.blob)
    }
}

pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn layer(tar: &[u8], comp: Comp) -> Layer {
    let (blob, media_type) = match comp {
        Comp::Plain => (tar.to_vec(), "application/vnd.oci.image.layer.v1.tar"),
        Comp::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(tar).unwrap();
            (
                e.finish().unwrap(),
                "application/vnd.oci.image.layer.v1.tar+gzip",
            )
        }
        Comp::Zstd => (
            zstd::encode_all(tar, 3).unwrap(),
            "application/vnd.oci.image.layer.v1.tar+zstd",
        ),
    };
    Layer {
        blob,
        media_type,
        diff_id: digest(tar),
    }
}

/// A tar of regular files (`path`, content, mode), directories made as needed.
pub fn files_tar(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut dirs = std::collections::BTreeSet::new();
    for (path, data, mode) in files {
        let mut parent = Path::new(path).parent();
        let mut chain = Vec::new();
        while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
            chain.push(p.to_path_buf());
            parent = p.parent();
        }
        for d in chain.into_iter().rev() {
            if dirs.insert(d.clone()) {
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(0o755);
                h.set_size(0);
                h.set_mtime(1_700_000_000);
                h.set_uid(0);
                h.set_gid(0);
                b.append_data(&mut h, &d, &[][..]).unwrap();
            }
        }
        let mut h = tar::Header::new_gnu();
        h.set_mode(*mode);
        h.set_size(data.len() as u64);
        h.set_mtime(1_700_000_000);
        h.set_uid(0);
        h.set_gid(0);
        b.append_data(&mut h, path, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// One image: its layers and the `config` part of its OCI config.
pub struct Image {
    pub layers: Vec<Layer>,
    pub run: Value,
    pub arch: &'static str,
}

fn put(dir: &Path, bytes: &[u8]) -> String {
    let d = digest(bytes);
    let path = dir.join("blobs/sha256").join(&d[7..]);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
    d
}

/// Writes the image's blobs; returns its manifest's descriptor (without platform).
fn write_image(dir: &Path, image: &Image) -> Value {
    let config = json!({
        "created": "2024-05-06T07:08:09Z",
        "architecture": image.arch,
        "os": "linux",
        "config": image.run,
        "rootfs": {"type": "layers", "diff_ids": image.layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>()},
        "history": [{"created_by": "mdrun test"}],
    });
    let config = serde_json::to_vec(&config).unwrap();
    let config_digest = put(dir, &config);
    let layers: Vec<Value> = image
        .layers
        .iter()
        .map(|l| json!({"mediaType": l.media_type, "digest": put(dir, &l.blob), "size": l.blob.len()}))
        .collect();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": layers,
    });
    let manifest = serde_json::to_vec(&manifest).unwrap();
    json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": put(dir, &manifest),
        "size": manifest.len(),
    })
}

fn write_index_json(dir: &Path, mut top: Value, tag: &str) {
    top["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
    fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = json!({"schemaVersion": 2, "manifests": [top]});
    fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

/// An OCI layout at `dir` with one image tagged `tag`.
pub fn write_single(dir: &Path, image: &Image, tag: &str) {
    let desc = write_image(dir, image);
    write_index_json(dir, desc, tag);
}

/// An OCI layout whose `tag` is an index of these images, in this order.
pub fn write_index(dir: &Path, images: &[Image], tag: &str) {
    let manifests: Vec<Value> = images
        .iter()
        .map(|i| {
            let mut d = write_image(dir, i);
            d["platform"] = json!({"os": "linux", "architecture": i.arch});
            d
        })
        .collect();
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    });
    let bytes = serde_json::to_vec(&index).unwrap();
    let desc = json!({
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": put(dir, &bytes),
        "size": bytes.len(),
    });
    write_index_json(dir, desc, tag);
}

/// `skopeo copy --all oci:DIR:TAG docker://DEST` (`format` "v2s2" converts to docker
/// schema2); `creds` `USER:PASS`; `certs` a dir with the registry's CA.
pub fn skopeo_push(
    dir: &Path,
    tag: &str,
    dest: &str,
    format: Option<&str>,
    creds: Option<&str>,
    certs: Option<&Path>,
) {
    let mut cmd = Command::new("skopeo");
    cmd.args(["copy", "-q", "--all"]);
    match certs {
        Some(c) => {
            cmd.arg("--dest-cert-dir").arg(c);
        }
        None => {
            cmd.arg("--dest-tls-verify=false");
        }
    }
    if let Some(f) = format {
        cmd.args(["--format", f]);
    }
    if let Some(c) = creds {
        cmd.args(["--dest-creds", c]);
    }
    cmd.arg(format!("oci:{}:{tag}", dir.display()))
        .arg(format!("docker://{dest}"));
    let out = cmd.output().expect("skopeo (apt-get install skopeo)");
    assert!(
        out.status.success(),
        "skopeo copy to {dest}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

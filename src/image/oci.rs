//! The JSON documents of an OCI image layout (image-spec v1.1: `index.json`, manifest,
//! image config) and of a docker archive (`manifest.json`), with only the fields mdrun
//! reads or writes; unknown fields are ignored on reading.

use super::ImageConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub(crate) const LAYOUT_VERSION: &str = "1.0.0";
pub(crate) const MT_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub(crate) const MT_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub(crate) const MT_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub(crate) const MT_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
pub(crate) const MT_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub(crate) const MT_DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// The annotation that names an image in an OCI layout.
pub(crate) const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// containerd and docker put the full name here (and only the tag in [`REF_NAME`]).
pub(crate) const CONTAINERD_NAME: &str = "io.containerd.image.name";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// Where a foreign or non-distributable layer is to be fetched from instead.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Platform {
    pub architecture: String,
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Index {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub manifests: Vec<Descriptor>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Manifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
}

/// The OCI image config (`application/vnd.oci.image.config.v1+json`); docker's
/// `container.image.v1` has the same fields.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ConfigFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<RunConfig>,
    pub rootfs: RootFs,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RunConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<serde_json::Value>,
}

/// One step of how an image was made (`history` in the config).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct History {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RootFs {
    #[serde(rename = "type")]
    pub kind: String,
    /// `sha256:<hex>` of each uncompressed layer tar, bottom first.
    pub diff_ids: Vec<String>,
}

/// One image of a docker archive's `manifest.json` (a JSON array of these).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DockerEntry {
    /// Path of the config file inside the archive.
    pub config: String,
    #[serde(default)]
    pub repo_tags: Option<Vec<String>>,
    /// Paths of the layer tarballs, bottom first.
    pub layers: Vec<String>,
}

/// The platform of this machine, spelled as Go's GOARCH (what image configs use).
pub(crate) fn host_platform() -> Platform {
    let architecture = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    };
    Platform {
        architecture: architecture.to_string(),
        os: "linux".to_string(),
        variant: None,
    }
}

impl ConfigFile {
    /// The config `save` writes for an image.
    pub(crate) fn for_image(config: &ImageConfig, created: u64, diff_ids: Vec<String>) -> Self {
        let platform = host_platform();
        let set = |v: &[String]| {
            v.iter()
                .map(|k| (k.clone(), serde_json::json!({})))
                .collect()
        };
        let nonempty = |v: &[String]| (!v.is_empty()).then(|| v.to_vec());
        ConfigFile {
            created: Some(format_time(created)),
            architecture: platform.architecture,
            os: platform.os,
            config: Some(RunConfig {
                user: config.user.clone(),
                exposed_ports: (!config.exposed_ports.is_empty())
                    .then(|| set(&config.exposed_ports)),
                env: Some(config.env.clone()),
                entrypoint: nonempty(&config.entrypoint),
                cmd: Some(config.cmd.clone()),
                volumes: (!config.volumes.is_empty()).then(|| set(&config.volumes)),
                working_dir: config.workdir.clone(),
                labels: (!config.labels.is_empty()).then(|| config.labels.clone()),
                stop_signal: config.stop_signal.clone(),
                healthcheck: config.healthcheck.clone(),
            }),
            rootfs: RootFs {
                kind: "layers".to_string(),
                diff_ids,
            },
            history: Vec::new(),
        }
    }

    /// How mdrun runs it: the run part of the config, ENTRYPOINT and CMD kept apart.
    pub(crate) fn image_config(&self) -> ImageConfig {
        let Some(run) = self.config.as_ref() else {
            return ImageConfig::default();
        };
        let keys = |m: &Option<BTreeMap<String, serde_json::Value>>| {
            m.as_ref()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        };
        ImageConfig {
            cmd: run.cmd.clone().unwrap_or_default(),
            env: run.env.clone().unwrap_or_default(),
            workdir: run.working_dir.clone().filter(|w| !w.is_empty()),
            entrypoint: run.entrypoint.clone().unwrap_or_default(),
            user: run.user.clone().filter(|u| !u.is_empty()),
            stop_signal: run.stop_signal.clone().filter(|s| !s.is_empty()),
            labels: run.labels.clone().unwrap_or_default(),
            exposed_ports: keys(&run.exposed_ports),
            volumes: keys(&run.volumes),
            healthcheck: run.healthcheck.clone().filter(|h| !h.is_null()),
        }
    }

    /// Seconds since the epoch, when `created` is there and readable.
    pub(crate) fn created_secs(&self) -> Option<u64> {
        self.created.as_deref().and_then(parse_time)
    }
}

/// `sha256:<hex>` -> `<hex>`, when it is a well-formed sha256 digest.
pub(crate) fn sha256_hex(digest: &str) -> Option<&str> {
    digest
        .strip_prefix("sha256:")
        .filter(|hex| super::store::is_image_id(hex))
}

/// `2024-05-06T07:08:09Z` (RFC 3339, UTC, whole seconds).
pub(crate) fn format_time(secs: u64) -> String {
    let full = crate::time::rfc3339(secs as f64);
    // "....T07:08:09.000000000Z" -> "....T07:08:09Z"
    match full.split_once('.') {
        Some((head, _)) => format!("{head}Z"),
        None => full,
    }
}

/// RFC 3339 (`2024-05-06T07:08:09.123456789+02:00`, `...Z`) to seconds since the epoch.
pub(crate) fn parse_time(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(rest.as_bytes()[0], b'+' | b'-') => {
            let (oh, om): (i64, i64) = (rest[1..3].parse().ok()?, rest[4..6].parse().ok()?);
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (oh * 3600 + om * 60)
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset;
    u64::try_from(secs).ok()
}

/// Howard Hinnant's civil-to-days (proleptic Gregorian), the inverse of the one in
/// `crate::time`.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_and_offsets_apply() {
        for secs in [0u64, 951_782_400, 1_700_000_000, 4_102_444_800] {
            assert_eq!(parse_time(&format_time(secs)), Some(secs), "{secs}");
        }
        assert_eq!(format_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(parse_time("2000-02-29T00:00:00.5Z"), Some(951_782_400));
        assert_eq!(parse_time("2000-02-29T02:00:00+02:00"), Some(951_782_400));
        assert_eq!(parse_time("1999-12-31T23:00:00-01:00"), Some(946_684_800));
        for bad in [
            "",
            "yesterday",
            "2000-13-01T00:00:00Z",
            "2000-01-01T00:00:00",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn config_json_has_the_oci_field_names() {
        let config = ImageConfig {
            cmd: vec!["sh".into(), "-c".into(), "echo hi".into()],
            env: vec!["PATH=/bin".into()],
            workdir: Some("/srv".into()),
            ..ImageConfig::default()
        };
        let file = ConfigFile::for_image(&config, 0, vec![format!("sha256:{}", "a".repeat(64))]);
        let json: serde_json::Value = serde_json::to_value(&file).unwrap();
        assert_eq!(json["created"], "1970-01-01T00:00:00Z");
        assert_eq!(json["os"], "linux");
        assert_eq!(json["rootfs"]["type"], "layers");
        assert_eq!(
            json["rootfs"]["diff_ids"][0],
            format!("sha256:{}", "a".repeat(64))
        );
        assert_eq!(json["config"]["Cmd"][2], "echo hi");
        assert_eq!(json["config"]["Env"][0], "PATH=/bin");
        assert_eq!(json["config"]["WorkingDir"], "/srv");
        assert!(json["config"].get("Entrypoint").is_none());
        // And back.
        let back: ConfigFile = serde_json::from_value(json).unwrap();
        assert_eq!(back.image_config(), config);
        assert_eq!(back.created_secs(), Some(0));
    }

    #[test]
    fn entrypoint_and_cmd_stay_apart_and_missing_fields_are_empty() {
        let json = r#"{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/bin/app"],
            "Cmd":["--flag"],"WorkingDir":""},"rootfs":{"type":"layers","diff_ids":[]},
            "history":[{"created_by":"x"}]}"#;
        let file: ConfigFile = serde_json::from_str(json).unwrap();
        let config = file.image_config();
        assert_eq!(config.entrypoint, vec!["/bin/app"]);
        assert_eq!(config.cmd, vec!["--flag"]);
        assert_eq!(config.command(None, &[]), vec!["/bin/app", "--flag"]);
        assert_eq!(config.command(None, &["x".into()]), vec!["/bin/app", "x"]);
        assert_eq!(config.command(Some("/bin/sh"), &[]), vec!["/bin/sh"]);
        assert_eq!(config.command(Some(""), &["ls".into()]), vec!["ls"]);
        assert!(config.env.is_empty());
        assert_eq!(config.workdir, None);
        let bare: ConfigFile =
            serde_json::from_str(r#"{"rootfs":{"type":"layers","diff_ids":[]}}"#).unwrap();
        assert!(bare.image_config().cmd.is_empty());
    }

    #[test]
    fn manifest_and_index_json_use_camel_case() {
        let desc = Descriptor {
            media_type: MT_MANIFEST.to_string(),
            digest: format!("sha256:{}", "b".repeat(64)),
            size: 7,
            annotations: BTreeMap::from([(REF_NAME.to_string(), "app:v1".to_string())]),
            platform: Some(host_platform()),
            urls: Vec::new(),
        };
        let index = Index {
            schema_version: 2,
            media_type: Some(MT_INDEX.to_string()),
            manifests: vec![desc.clone()],
        };
        let json = serde_json::to_value(&index).unwrap();
        assert_eq!(json["schemaVersion"], 2);
        assert_eq!(json["mediaType"], MT_INDEX);
        assert_eq!(json["manifests"][0]["mediaType"], MT_MANIFEST);
        assert_eq!(json["manifests"][0]["annotations"][REF_NAME], "app:v1");
        assert_eq!(json["manifests"][0]["platform"]["os"], "linux");
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(MT_MANIFEST.to_string()),
            config: Descriptor {
                annotations: BTreeMap::new(),
                platform: None,
                ..desc.clone()
            },
            layers: vec![],
        };
        let json = serde_json::to_value(&manifest).unwrap();
        assert!(json["config"].get("annotations").is_none());
        assert!(json["config"].get("platform").is_none());
        let docker: Vec<DockerEntry> = serde_json::from_str(
            r#"[{"Config":"abc.json","RepoTags":["busybox:latest"],"Layers":["l/layer.tar"]}]"#,
        )
        .unwrap();
        assert_eq!(
            docker[0].repo_tags.as_deref(),
            Some(&["busybox:latest".to_string()][..])
        );
        assert_eq!(sha256_hex(&desc.digest), Some(&"b".repeat(64)[..]));
        assert_eq!(sha256_hex("sha512:abc"), None);
        assert_eq!(sha256_hex("sha256:../../etc"), None);
    }
}

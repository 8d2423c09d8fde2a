//! Manifests: OCI manifests and indexes, docker schema2 manifests and manifest lists; the
//! platform chosen from an index (this machine's, or `--platform os/arch[/variant]`).

use super::client::Client;
use super::RegistryError;
use crate::image::oci::{
    Descriptor, Index, Manifest, Platform, MT_DOCKER_LIST, MT_INDEX, MT_MANIFEST,
};
use sha2::{Digest, Sha256};

pub(crate) const MT_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const MT_DOCKER_V1: &str = "application/vnd.docker.distribution.manifest.v1+json";
const MT_DOCKER_V1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";

/// What a manifest request accepts, most wanted first.
const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json";

/// The image's manifest, after the index (if any) was resolved for the platform.
pub(crate) struct Resolved {
    pub manifest: Manifest,
    /// `sha256:<hex>` of the manifest's bytes.
    pub digest: String,
}

/// `os/arch[/variant]`.
pub(crate) fn parse_platform(s: &str) -> Result<Platform, RegistryError> {
    let parts: Vec<&str> = s.split('/').collect();
    let ok = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    match parts.as_slice() {
        [os, arch] if ok(os) && ok(arch) => Ok(Platform {
            os: os.to_string(),
            architecture: arch.to_string(),
            variant: None,
        }),
        [os, arch, v] if ok(os) && ok(arch) && ok(v) => Ok(Platform {
            os: os.to_string(),
            architecture: arch.to_string(),
            variant: Some(v.to_string()),
        }),
        _ => Err(RegistryError::InvalidReference {
            reference: s.to_string(),
            reason: "a platform is os/arch[/variant], as linux/amd64 or linux/arm/v7",
        }),
    }
}

fn platform_name(p: &Platform) -> String {
    match &p.variant {
        Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
        None => format!("{}/{}", p.os, p.architecture),
    }
}

/// An index entry fits when os and arch match, and the variant does when one is asked
/// for (arm64's is v8 when missing).
fn fits(have: &Platform, want: &Platform) -> bool {
    let variant = |p: &Platform| match (p.architecture.as_str(), p.variant.as_deref()) {
        ("arm64", None) => Some("v8".to_string()),
        (_, v) => v.map(str::to_string),
    };
    have.os == want.os
        && have.architecture == want.architecture
        && (want.variant.is_none() || variant(have) == variant(want))
}

/// Fetches the manifest `reference` (a tag or a digest) names and, for an index, the one
/// of `platform`.
pub(crate) fn resolve(
    client: &Client,
    reference: &str,
    platform: &Platform,
) -> Result<Resolved, RegistryError> {
    let (media_type, bytes, digest) = match fetch(client, reference) {
        Err(e) if e.is_not_found() => return Err(not_found(client, reference, e)),
        other => other?,
    };
    let media_type = media_type.unwrap_or_else(|| sniff(&bytes));
    match media_type.as_str() {
        MT_INDEX | MT_DOCKER_LIST => {
            let index: Index = parse(client, &digest, &bytes)?;
            let chosen = choose(client, &index.manifests, platform)?;
            let (child_type, bytes, digest) = fetch(client, &chosen.digest)?;
            let child_type = child_type.unwrap_or_else(|| sniff(&bytes));
            if child_type != MT_MANIFEST && child_type != MT_DOCKER_MANIFEST {
                return Err(client.fail(format!(
                    "the index entry for {} is a {child_type}, not an image manifest",
                    platform_name(platform)
                )));
            }
            Ok(Resolved {
                manifest: parse(client, &digest, &bytes)?,
                digest,
            })
        }
        MT_MANIFEST | MT_DOCKER_MANIFEST => Ok(Resolved {
            manifest: parse(client, &digest, &bytes)?,
            digest,
        }),
        MT_DOCKER_V1 | MT_DOCKER_V1_SIGNED => Err(client.fail(
            "docker schema1 manifests are not supported (deprecated since 2017; push the image again)",
        )),
        other => Err(client.fail(format!("unsupported manifest type {other:?}"))),
    }
}

fn choose<'a>(
    client: &Client,
    entries: &'a [Descriptor],
    want: &Platform,
) -> Result<&'a Descriptor, RegistryError> {
    if let Some(d) = entries
        .iter()
        .find(|d| d.platform.as_ref().is_some_and(|p| fits(p, want)))
    {
        return Ok(d);
    }
    let have: Vec<String> = entries
        .iter()
        .filter_map(|d| d.platform.as_ref())
        .filter(|p| p.os != "unknown")
        .map(platform_name)
        .collect();
    Err(client.fail(format!(
        "no image for {} in the index (it has {})",
        platform_name(want),
        if have.is_empty() {
            "none".to_string()
        } else {
            have.join(", ")
        }
    )))
}

/// The manifest's media type (from Content-Type), bytes and digest, checked against the
/// reference when that is a digest.
fn fetch(
    client: &Client,
    reference: &str,
) -> Result<(Option<String>, Vec<u8>, String), RegistryError> {
    let path = client.path(&format!("manifests/{reference}"));
    let resp = client.request("GET", &path, &[("Accept", ACCEPT)], None)?;
    let media_type = resp
        .header("Content-Type")
        .map(|t| t.split(';').next().unwrap_or("").trim().to_string())
        .filter(|t| t.starts_with("application/vnd."));
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(resp.into_reader(), 4 << 20),
        &mut bytes,
    )
    .map_err(|e| client.fail(format!("read manifest {reference}: {e}")))?;
    let digest = format!("sha256:{}", crate::image::hex(&Sha256::digest(&bytes)));
    if reference.starts_with("sha256:") && reference != digest {
        return Err(client.fail(format!(
            "manifest {reference} does not match its digest (got {digest})"
        )));
    }
    Ok((media_type, bytes, digest))
}

/// A 404 for a manifest: is it the repository (its tag list is a 404 too) or the tag?
fn not_found(client: &Client, reference: &str, e: RegistryError) -> RegistryError {
    match client.request("GET", &client.path("tags/list"), &[], None) {
        Ok(_) if reference.starts_with("sha256:") => {
            client.fail(format!("manifest {reference} not found (404)"))
        }
        Ok(_) => client.fail(format!("tag {reference} not found (404)")),
        Err(tags) if tags.is_not_found() => client.fail("repository not found (404)"),
        Err(_) => e,
    }
}

/// The media type from the document itself (`mediaType`, else by its fields).
fn sniff(bytes: &[u8]) -> String {
    let json: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    if let Some(t) = json["mediaType"].as_str() {
        return t.to_string();
    }
    if json["schemaVersion"] == 1 {
        return MT_DOCKER_V1.to_string();
    }
    match json.get("manifests") {
        Some(_) => MT_INDEX.to_string(),
        None => MT_MANIFEST.to_string(),
    }
}

fn parse<T: serde::de::DeserializeOwned>(
    client: &Client,
    digest: &str,
    bytes: &[u8],
) -> Result<T, RegistryError> {
    serde_json::from_slice(bytes).map_err(|e| client.fail(format!("manifest {digest}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms() {
        let p = parse_platform("linux/arm64").unwrap();
        assert!(fits(
            &Platform {
                variant: Some("v8".into()),
                ..p.clone()
            },
            &p
        ));
        let v8 = parse_platform("linux/arm64/v8").unwrap();
        assert!(fits(&p, &v8));
        let v7 = parse_platform("linux/arm/v7").unwrap();
        assert!(!fits(&parse_platform("linux/arm/v6").unwrap(), &v7));
        assert!(!fits(&parse_platform("linux/amd64").unwrap(), &p));
        for bad in ["linux", "linux/", "a/b/c/d", "linux/am d64"] {
            assert!(parse_platform(bad).is_err(), "{bad}");
        }
    }
}

//! Image references as docker normalises them: `alpine` is
//! `docker.io/library/alpine:latest`, `user/app` is `docker.io/user/app:latest`,
//! `host:port/path:tag@sha256:...` keeps its registry. A name without a registry is
//! looked for in `/etc/containers/registries.conf`'s `unqualified-search-registries`
//! when that file exists (podman's convention), else on docker.io.

use super::RegistryError;
use std::path::PathBuf;

pub const DOCKER_HUB: &str = "docker.io";
/// Where `registries.conf` is; `MDRUN_REGISTRIES_CONF` overrides (tests).
const REGISTRIES_CONF: &str = "/etc/containers/registries.conf";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// `docker.io`, `quay.io`, `127.0.0.1:5000`.
    pub registry: String,
    /// `library/alpine`, `team/app`.
    pub repository: String,
    /// `latest` when neither a tag nor a digest was given.
    pub tag: Option<String>,
    /// `sha256:<hex>`.
    pub digest: Option<String>,
}

impl ImageRef {
    /// The host to connect to: docker.io's API lives at registry-1.docker.io.
    pub fn api_host(&self) -> &str {
        match self.registry.as_str() {
            DOCKER_HUB => "registry-1.docker.io",
            other => other,
        }
    }

    /// What the manifest is fetched by: the digest if given, else the tag.
    pub fn manifest_ref(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// `registry/repository` (what errors name).
    pub fn repo_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The repository as the store names it (`alpine`, `127.0.0.1:5000/app`).
    pub fn local_repo(&self) -> String {
        match self.registry.as_str() {
            DOCKER_HUB => self
                .repository
                .strip_prefix("library/")
                .unwrap_or(&self.repository)
                .to_string(),
            _ => self.repo_name(),
        }
    }

    /// The name the store keeps it under, docker's short form for docker.io
    /// (`alpine:latest`, `user/app:v1`, `127.0.0.1:5000/app:v1`); None for a reference
    /// by digest only (stored untagged).
    pub fn local_name(&self) -> Option<String> {
        let tag = self.tag.as_deref()?;
        let repo = match self.registry.as_str() {
            DOCKER_HUB => self
                .repository
                .strip_prefix("library/")
                .unwrap_or(&self.repository)
                .to_string(),
            _ => self.repo_name(),
        };
        Some(format!("{repo}:{tag}"))
    }

    /// Parses one reference; `search` are the registries to try for a name without one.
    /// Returns one candidate per search registry (just one when the name has a registry).
    pub fn candidates(input: &str, search: &[String]) -> Result<Vec<ImageRef>, RegistryError> {
        let invalid = |reason: &'static str| RegistryError::InvalidReference {
            reference: input.to_string(),
            reason,
        };
        let (rest, digest) = match input.split_once('@') {
            Some((r, d)) => (r, Some(d)),
            None => (input, None),
        };
        if let Some(d) = digest {
            if crate::image::sha256_hex(d).is_none() {
                return Err(invalid("a digest is sha256: and 64 lowercase hex digits"));
            }
        }
        // The tag is after the last ':' unless a '/' follows it (then it was a port).
        let (name, tag) = match rest.rfind(':') {
            Some(i) if !rest[i + 1..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
            _ => (rest, None),
        };
        if let Some(t) = tag {
            let ok = t
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
            if t.is_empty() || t.len() > 128 || !ok || t.starts_with(['.', '-']) {
                return Err(invalid(
                    "a tag is 1 to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'",
                ));
            }
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, path))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first != first.to_lowercase() =>
            {
                (Some(first), path)
            }
            _ => (None, name),
        };
        if path.is_empty() || name.len() > 255 || !valid_path(path) {
            return Err(invalid(
                "a repository is [a-z0-9] parts with '.', '_', '__' or '-' inside, joined by '/'",
            ));
        }
        let tag = tag
            .map(str::to_string)
            .or_else(|| digest.is_none().then(|| "latest".to_string()));
        let make = |registry: &str| {
            let registry = match registry {
                "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB,
                r => r,
            };
            let repository = if registry == DOCKER_HUB && !path.contains('/') {
                format!("library/{path}")
            } else {
                path.to_string()
            };
            ImageRef {
                registry: registry.to_string(),
                repository,
                tag: tag.clone(),
                digest: digest.map(str::to_string),
            }
        };
        match registry {
            Some(r) => {
                if !valid_host(r) {
                    return Err(invalid("a registry is HOST[:PORT]"));
                }
                Ok(vec![make(r)])
            }
            None if search.is_empty() => Err(RegistryError::NoSearchRegistries {
                reference: input.to_string(),
            }),
            None => Ok(search.iter().map(|r| make(r)).collect()),
        }
    }

    /// One reference that must name its registry, or gets docker.io (push destinations,
    /// `login`): no search.
    pub fn parse_qualified(input: &str) -> Result<ImageRef, RegistryError> {
        let mut refs = ImageRef::candidates(input, &[DOCKER_HUB.to_string()])?;
        Ok(refs.remove(0))
    }
}

impl std::fmt::Display for ImageRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

fn valid_path(path: &str) -> bool {
    path.split('/').all(|part| {
        let b = part.as_bytes();
        let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        !b.is_empty()
            && b.first().is_some_and(alnum)
            && b.last().is_some_and(alnum)
            && b.iter().all(|c| alnum(c) || b"._-".contains(c))
    })
}

fn valid_host(host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) if !n.ends_with(']') || host.starts_with('[') => (n, Some(p)),
        _ => (host, None),
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-[]:".contains(&b));
    port_ok && name_ok
}

/// The registries a name without one is looked for in, in order: registries.conf's
/// `unqualified-search-registries` when the file exists, else docker.io.
pub fn search_registries() -> Result<Vec<String>, RegistryError> {
    let path = std::env::var_os("MDRUN_REGISTRIES_CONF")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(REGISTRIES_CONF));
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(vec![DOCKER_HUB.to_string()])
        }
        Err(e) => {
            return Err(RegistryError::Config {
                path,
                reason: e.to_string(),
            })
        }
    };
    let table: toml::Table = toml::from_str(&text).map_err(|e| RegistryError::Config {
        path: path.clone(),
        reason: e.message().to_string(),
    })?;
    let Some(list) = table.get("unqualified-search-registries") else {
        return Ok(vec![DOCKER_HUB.to_string()]);
    };
    let bad = || RegistryError::Config {
        path: path.clone(),
        reason: "unqualified-search-registries is not a list of strings".to_string(),
    };
    list.as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|v| v.as_str().map(str::to_string).ok_or_else(bad))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> ImageRef {
        ImageRef::parse_qualified(s).unwrap()
    }

    #[test]
    fn docker_normalisation() {
        assert_eq!(one("alpine").to_string(), "docker.io/library/alpine:latest");
        assert_eq!(one("user/app").to_string(), "docker.io/user/app:latest");
        assert_eq!(one("alpine:3.19").local_name().unwrap(), "alpine:3.19");
        assert_eq!(
            one("docker.io/user/app:v1").local_name().unwrap(),
            "user/app:v1"
        );
        assert_eq!(
            one("index.docker.io/alpine").to_string(),
            "docker.io/library/alpine:latest"
        );
        let r = one("localhost:5000/a/b:v2");
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str()),
            ("localhost:5000", "a/b")
        );
        assert_eq!(r.local_name().unwrap(), "localhost:5000/a/b:v2");
        assert_eq!(one("127.0.0.1:5000/app").api_host(), "127.0.0.1:5000");
        assert_eq!(one("alpine").api_host(), "registry-1.docker.io");
        let d = format!("sha256:{}", "a".repeat(64));
        let r = one(&format!("quay.io/x/y:t@{d}"));
        assert_eq!(
            (r.tag.as_deref(), r.digest.as_deref()),
            (Some("t"), Some(d.as_str()))
        );
        assert_eq!(r.manifest_ref(), d);
        let r = one(&format!("quay.io/x/y@{d}"));
        assert_eq!((r.local_name(), r.tag), (None, None));
    }

    #[test]
    fn short_names_go_to_each_search_registry() {
        let search = vec!["127.0.0.1:5000".to_string(), DOCKER_HUB.to_string()];
        let c = ImageRef::candidates("app:v1", &search).unwrap();
        assert_eq!(c[0].to_string(), "127.0.0.1:5000/app:v1");
        assert_eq!(c[1].to_string(), "docker.io/library/app:v1");
        assert_eq!(ImageRef::candidates("q.io/app", &search).unwrap().len(), 1);
        assert!(matches!(
            ImageRef::candidates("app", &[]),
            Err(RegistryError::NoSearchRegistries { .. })
        ));
    }

    #[test]
    fn bad_references_are_refused() {
        for bad in [
            "",
            "Alpine",
            "a:",
            "a//b",
            "-a",
            "a@sha256:00",
            "x:50a/b",
            "a:-x",
            "a/",
        ] {
            assert!(ImageRef::parse_qualified(bad).is_err(), "{bad:?} accepted");
        }
    }
}

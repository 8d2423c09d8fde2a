//! Credentials and authentication: where podman and docker keep credentials
//! (`auth.json`, `~/.docker/config.json`), `WWW-Authenticate` challenges (Basic, Bearer with
//! realm, service and scope), tokens, and `login`/`logout`.

use super::client::Client;
use super::reference::{ImageRef, DOCKER_HUB};
use super::{Options, RegistryError};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Clone)]
pub(crate) struct Creds {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Creds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Creds({}, ***)", self.user)
    }
}

impl Creds {
    pub(crate) fn basic(&self) -> String {
        format!(
            "Basic {}",
            B64.encode(format!("{}:{}", self.user, self.password))
        )
    }
}

/// `--authfile`, else `$REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json`,
/// else `/run/containers/<uid>/auth.json` (podman's order).
pub(crate) fn auth_file(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os("REGISTRY_AUTH_FILE").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|p| !p.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("containers/auth.json"),
        None => PathBuf::from(format!(
            "/run/containers/{}/auth.json",
            nix::unistd::getuid()
        )),
    }
}

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
fn docker_config() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker/config.json"))
}

/// The keys a registry's entry may have in an `auths` map.
fn keys(registry: &str) -> Vec<String> {
    let mut keys = vec![registry.to_string(), format!("https://{registry}")];
    if registry == DOCKER_HUB {
        keys.extend(
            [
                "https://index.docker.io/v1/",
                "index.docker.io",
                "registry-1.docker.io",
            ]
            .map(String::from),
        );
    }
    keys
}

fn read_auths(path: &Path) -> Result<serde_json::Value, RegistryError> {
    let bad = |reason: String| RegistryError::Config {
        path: path.to_path_buf(),
        reason,
    };
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(serde_json::json!({})),
        Err(e) => Err(bad(e.to_string())),
    }
}

/// The credentials stored for `registry`: the auth file first, then docker's config.
pub(crate) fn credentials(
    registry: &str,
    authfile: Option<&Path>,
) -> Result<Option<Creds>, RegistryError> {
    let files = std::iter::once(auth_file(authfile)).chain(docker_config());
    for path in files {
        let json = read_auths(&path)?;
        for key in keys(registry) {
            let Some(auth) = json["auths"][&key]["auth"].as_str() else {
                continue;
            };
            let decoded = B64
                .decode(auth)
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            let Some((user, password)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
                return Err(RegistryError::Config {
                    path,
                    reason: format!("the \"auth\" of {key} is not base64 of USER:PASSWORD"),
                });
            };
            return Ok(Some(Creds {
                user: user.to_string(),
                password: password.to_string(),
            }));
        }
    }
    Ok(None)
}

/// What a `WWW-Authenticate` header asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// `Bearer realm="https://auth/token",service="reg",scope="repository:a:pull,push"`.
pub(crate) fn parse_challenge(header: &str) -> Option<Challenge> {
    let (scheme, rest) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    let mut params = Vec::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let after = after.trim_start();
        let (value, remain) = match after.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            }
            None => after.split_once(',').unwrap_or((after, "")),
        };
        params.push((key.trim().to_ascii_lowercase(), value.to_string()));
        rest = remain.trim_start_matches([',', ' ']);
    }
    let get = |k: &str| params.iter().find(|(p, _)| p == k).map(|(_, v)| v.clone());
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Some(Challenge::Basic),
        "bearer" => Some(Challenge::Bearer {
            realm: get("realm")?,
            service: get("service"),
            scope: get("scope"),
        }),
        _ => None,
    }
}

/// A token from the realm (with Basic credentials when there are some), for `scope`.
pub(crate) fn fetch_token(
    agent: &ureq::Agent,
    challenge: &Challenge,
    creds: Option<&Creds>,
    default_scope: &str,
) -> Result<String, String> {
    let Challenge::Bearer {
        realm,
        service,
        scope,
    } = challenge
    else {
        return Err("not a Bearer challenge".into());
    };
    if !realm.starts_with("https://") && !realm.starts_with("http://") {
        return Err(format!("token realm {realm:?} is not an http(s) URL"));
    }
    let mut req = agent.get(realm);
    if let Some(s) = service {
        req = req.query("service", s);
    }
    req = req.query("scope", scope.as_deref().unwrap_or(default_scope));
    if let Some(c) = creds {
        req = req.set("Authorization", &c.basic());
    }
    let resp = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(code, _)) => {
            return Err(format!("the token server {realm} answered {code}"))
        }
        Err(e) => return Err(format!("token server {realm}: {e}")),
    };
    let json: serde_json::Value = serde_json::from_reader(resp.into_reader().take(1 << 20))
        .map_err(|e| format!("token server {realm}: {e}"))?;
    json["token"]
        .as_str()
        .or(json["access_token"].as_str())
        .map(|t| format!("Bearer {t}"))
        .ok_or_else(|| format!("the token server {realm} sent no token"))
}

/// `mdrun login`: the credentials are tried against the registry, then stored (0600).
pub fn login(
    server: Option<&str>,
    user: &str,
    password: &str,
    opts: &Options,
) -> Result<PathBuf, RegistryError> {
    let registry = server_name(server)?;
    let target = ImageRef {
        registry: registry.clone(),
        repository: String::new(),
        tag: None,
        digest: None,
    };
    let creds = Creds {
        user: user.to_string(),
        password: password.to_string(),
    };
    Client::connect(&target, opts, "login", Some(creds.clone()))?.check_login()?;
    let path = auth_file(opts.authfile.as_deref());
    let mut json = read_auths(&path)?;
    if !json["auths"].is_object() {
        json["auths"] = serde_json::json!({});
    }
    json["auths"][&registry] =
        serde_json::json!({ "auth": B64.encode(format!("{user}:{password}")) });
    write_private(&path, &json)?;
    Ok(path)
}

/// `mdrun logout`: the registry's entry removed; false when there was none.
pub fn logout(server: Option<&str>, authfile: Option<&Path>) -> Result<bool, RegistryError> {
    let registry = server_name(server)?;
    let path = auth_file(authfile);
    let mut json = read_auths(&path)?;
    let Some(auths) = json["auths"].as_object_mut() else {
        return Ok(false);
    };
    let mut removed = false;
    for key in keys(&registry) {
        removed |= auths.remove(&key).is_some();
    }
    if removed {
        write_private(&path, &json)?;
    }
    Ok(removed)
}

/// `docker.io` when none is given; `https://host/` spelled as just `host`.
fn server_name(server: Option<&str>) -> Result<String, RegistryError> {
    let s = server.unwrap_or(DOCKER_HUB);
    let s = s
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let s = s.strip_suffix("/v1").or(s.strip_suffix("/v2")).unwrap_or(s);
    // Parsed as a repository on it, only to check and normalise the host.
    let r = ImageRef::parse_qualified(&format!("{s}/x"))?;
    if r.registry != s && !(r.registry == DOCKER_HUB && s.ends_with("docker.io")) {
        return Err(RegistryError::InvalidReference {
            reference: s.to_string(),
            reason: "a registry is HOST[:PORT]",
        });
    }
    Ok(r.registry)
}

/// Written beside, then renamed: mode 0600 in a 0700 directory it makes if missing.
fn write_private(path: &Path, json: &serde_json::Value) -> Result<(), RegistryError> {
    let fail = |step: &str, e: std::io::Error| RegistryError::Config {
        path: path.to_path_buf(),
        reason: format!("{step}: {e}"),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| fail("mkdir", e))?;
        }
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        f.write_all(&serde_json::to_vec_pretty(json).expect("JSON serializes"))?;
        f.sync_data()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail("write", e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse() {
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/a:pull,push""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/a:pull,push".into()),
            })
        );
        assert_eq!(parse_challenge("Negotiate"), None);
        assert_eq!(parse_challenge(r#"Bearer service="x""#), None);
    }

    #[test]
    fn server_names() {
        assert_eq!(server_name(None).unwrap(), "docker.io");
        assert_eq!(
            server_name(Some("https://index.docker.io/v1/")).unwrap(),
            "docker.io"
        );
        assert_eq!(
            server_name(Some("127.0.0.1:5000")).unwrap(),
            "127.0.0.1:5000"
        );
        assert!(server_name(Some("a b")).is_err());
    }
}

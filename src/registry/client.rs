//! One registry and repository: the scheme (HTTPS; plain HTTP only for loopback
//! registries, docker's rule, or with `--tls-verify=false`), authentication (anonymous,
//! Basic, Bearer tokens for the repository's scope) and retries with backoff on 5xx, 429
//! and cut connections. Blocking (ureq): no runtime, threads only where a pull makes them.

use super::auth::{self, Challenge, Creds};
use super::reference::ImageRef;
use super::{tls, Options, RegistryError};
use std::sync::Mutex;
use std::time::Duration;

/// Attempts per request (the first plus retries) on 5xx, 429 and transport errors.
pub(crate) const ATTEMPTS: u32 = 5;

pub(crate) struct Client {
    agent: ureq::Agent,
    /// `https://host[:port]` or `http://...`.
    base: String,
    /// `registry/repository`, as errors name it.
    pub target: String,
    op: &'static str,
    repository: String,
    creds: Option<Creds>,
    /// The `Authorization` header value in use, once known.
    auth: Mutex<Option<String>>,
    /// `pull` or `pull,push`.
    actions: &'static str,
}

/// The HTTP agent for `scheme://host`: TLS roots, timeouts, the proxy the environment
/// names for it (see `proxy`).
fn make_agent(
    host: &str,
    scheme: &str,
    opts: &Options,
    target: &str,
) -> Result<ureq::Agent, RegistryError> {
    let mut builder = ureq::AgentBuilder::new()
        .tls_config(tls::config(host, opts.insecure)?)
        .timeout_connect(Duration::from_secs(30))
        .timeout_read(Duration::from_secs(60))
        .timeout_write(Duration::from_secs(60))
        .try_proxy_from_env(false)
        .user_agent(concat!("mdrun/", env!("CARGO_PKG_VERSION")));
    if let Some(url) = super::proxy::from_env(scheme, host) {
        let proxy = ureq::Proxy::new(&url).map_err(|e| {
            RegistryError::failed("connect to", target, format!("proxy {url:?}: {e}"))
        })?;
        builder = builder.proxy(proxy);
    }
    Ok(builder.build())
}

/// Loopback registries may speak plain HTTP (docker's rule).
fn is_loopback(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((n, p)) if p.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Client {
    /// Connects (`GET /v2/`), choosing the scheme, and authenticates for the repository.
    /// `creds` None: the stored ones, if any.
    pub(crate) fn connect(
        r: &ImageRef,
        opts: &Options,
        op: &'static str,
        creds: Option<Creds>,
    ) -> Result<Client, RegistryError> {
        let target = match r.repository.is_empty() {
            true => r.registry.clone(),
            false => r.repo_name(),
        };
        let host = r.api_host();
        let creds = match creds {
            Some(c) => Some(c),
            None => auth::credentials(&r.registry, opts.authfile.as_deref())?,
        };
        let agent = make_agent(host, "https", opts, &target)?;
        let mut client = Client {
            agent,
            base: format!("https://{host}"),
            target,
            op,
            repository: r.repository.clone(),
            creds,
            auth: Mutex::new(None),
            actions: if op == "push" { "pull,push" } else { "pull" },
        };
        match client.ping().map_err(|e| *e) {
            Ok(()) => {}
            Err(ureq::Error::Transport(t)) if is_loopback(host) || opts.insecure => {
                client.base = format!("http://{host}");
                client.agent = make_agent(host, "http", opts, &client.target)?;
                client.ping().map_err(|e| match *e {
                    ureq::Error::Transport(t2) => {
                        client.fail(format!("cannot reach the registry: https: {t}; http: {t2}"))
                    }
                    e => client.fail(format!(
                        "https: {t}; plain http: {}",
                        client.status_or_transport(e)
                    )),
                })?;
            }
            Err(e) => return Err(client.status_or_transport(e)),
        }
        Ok(client)
    }

    /// `GET /v2/`. A 401 carries the challenge, which is met here, for the repository's
    /// scope (if it cannot be, the first request that needs it says why).
    fn ping(&self) -> Result<(), Box<ureq::Error>> {
        match self.agent.get(&format!("{}/v2/", self.base)).call() {
            Ok(_) => Ok(()),
            Err(ureq::Error::Status(401, resp)) => {
                let _ = self.answer(&resp);
                Ok(())
            }
            Err(e) => Err(Box::new(e)),
        }
    }

    /// `login`: the credentials work (`GET /v2/` with them accepted).
    pub(crate) fn check_login(&self) -> Result<(), RegistryError> {
        self.request("GET", "/v2/", &[], None).map(|_| ())
    }

    /// Meets a 401's challenge: Basic credentials, or a token for our scope.
    fn answer(&self, resp: &ureq::Response) -> Result<(), String> {
        let challenge = resp
            .header("WWW-Authenticate")
            .and_then(auth::parse_challenge)
            .ok_or("the registry sent no challenge it can be answered with")?;
        let header = match &challenge {
            Challenge::Basic => self
                .creds
                .as_ref()
                .ok_or("authentication required: log in first (mdrun login)")?
                .basic(),
            Challenge::Bearer { .. } => {
                let scope = match self.repository.is_empty() {
                    true => String::new(),
                    false => format!("repository:{}:{}", self.repository, self.actions),
                };
                auth::fetch_token(&self.agent, &challenge, self.creds.as_ref(), &scope)?
            }
        };
        *self.auth.lock().expect("auth lock") = Some(header);
        Ok(())
    }

    pub(crate) fn fail(&self, what: impl Into<String>) -> RegistryError {
        RegistryError::failed(self.op, &self.target, what)
    }

    /// `/v2/<repository>/<rest>`.
    pub(crate) fn path(&self, rest: &str) -> String {
        format!("/v2/{}/{rest}", self.repository)
    }

    /// One request, authenticated, retried with backoff on 5xx, 429 and transport
    /// errors; any other error status is an error naming what the registry said.
    pub(crate) fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<ureq::Response, RegistryError> {
        let url = match path.starts_with("http://") || path.starts_with("https://") {
            true => path.to_string(),
            false => format!("{}{path}", self.base),
        };
        let mut answered = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self.agent.request(method, &url);
            for (k, v) in headers {
                req = req.set(k, v);
            }
            if let Some(a) = self.auth.lock().expect("auth lock").as_deref() {
                req = req.set("Authorization", a);
            }
            let result = match body {
                Some(b) => req.send_bytes(b),
                None => req.call(),
            };
            match result {
                Ok(resp) => return Ok(resp),
                Err(ureq::Error::Status(401, resp)) if !answered => {
                    answered = true;
                    attempt -= 1;
                    if let Err(why) = self.answer(&resp) {
                        return Err(self.fail(format!("{why} (401)")));
                    }
                }
                Err(ureq::Error::Status(code, resp))
                    if (code >= 500 || code == 429) && attempt < ATTEMPTS =>
                {
                    let wait = resp
                        .header("Retry-After")
                        .and_then(|s| s.parse::<u64>().ok())
                        .map(|s| Duration::from_secs(s.min(10)));
                    std::thread::sleep(wait.unwrap_or_else(|| backoff(attempt)));
                }
                Err(ureq::Error::Transport(_)) if attempt < ATTEMPTS => {
                    std::thread::sleep(backoff(attempt));
                }
                Err(e) => return Err(self.status_or_transport(e)),
            }
        }
    }

    pub(crate) fn status_or_transport(&self, e: ureq::Error) -> RegistryError {
        match e {
            ureq::Error::Status(code, resp) => self.fail(status_message(code, resp)),
            ureq::Error::Transport(t) => self.fail(format!("cannot reach the registry: {t}")),
        }
    }
}

/// 200 ms, 400 ms, 800 ms ... up to 5 s.
pub(crate) fn backoff(attempt: u32) -> Duration {
    Duration::from_millis((200u64 << attempt.min(5).saturating_sub(1)).min(5000))
}

/// What the registry said, in its error JSON (`{"errors":[{"code","message"}]}`), with
/// the status: `repository not found (404)`.
fn status_message(code: u16, resp: ureq::Response) -> String {
    let mut body = String::new();
    let _ = std::io::Read::read_to_string(
        &mut std::io::Read::take(resp.into_reader(), 64 << 10),
        &mut body,
    );
    let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    let first = &json["errors"][0];
    let reg_code = first["code"].as_str().unwrap_or("");
    let message = first["message"].as_str().unwrap_or("");
    let what = match (code, reg_code) {
        (404, "NAME_UNKNOWN") | (404, "") => "repository not found".to_string(),
        (404, "MANIFEST_UNKNOWN") => "manifest unknown (no such tag or digest)".to_string(),
        (404, "BLOB_UNKNOWN") => "blob unknown".to_string(),
        (401, _) => match message {
            "" => "authentication required".to_string(),
            m => format!("authentication required: {m}"),
        },
        (403, _) => match message {
            "" => "access denied".to_string(),
            m => format!("access denied: {m}"),
        },
        (_, _) if !message.is_empty() => message.to_string(),
        _ => "the registry answered with an error".to_string(),
    };
    format!("{what} ({code})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in ["docker.io", "10.0.0.1:5000", "localhost.example.com"] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_millis(200));
        assert_eq!(backoff(2), Duration::from_millis(400));
        assert_eq!(backoff(9), Duration::from_millis(3200));
    }
}

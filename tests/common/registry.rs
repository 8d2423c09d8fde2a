//! Registries on 127.0.0.1 for the pull tests: Debian's docker-registry 2.8 (the CNCF
//! distribution), taken with `apt-get download` + `dpkg -x` into a cache dir (installing
//! the package would start a service on every interface), run on a free loopback port
//! with a storage dir of its own and stopped by pid. Plain HTTP, or TLS (a CA the test
//! makes, for a certs.d dir) with htpasswd basic auth. `proxy` adds what the registry does
//! not do: a Bearer token flow, failures, cut connections.

use super::fixture::{target_tmp, FileLock};
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// `$MDRUN_REGISTRY_CACHE`, else /var/cache/mdrun-test-registry.
fn cache_dir() -> PathBuf {
    std::env::var_os("MDRUN_REGISTRY_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/mdrun-test-registry"))
}

/// The docker-registry binary, unpacked from Debian's package on first use.
pub fn registry_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cache = cache_dir();
        let bin = cache.join("usr/bin/docker-registry");
        let _lock = FileLock::exclusive("docker-registry-download");
        if !bin.exists() {
            fs::create_dir_all(&cache).unwrap();
            let debs = cache.join("debs");
            fs::create_dir_all(&debs).unwrap();
            let out = Command::new("apt-get")
                .args(["download", "-q", "docker-registry"])
                .current_dir(&debs)
                .output()
                .expect("run apt-get download");
            assert!(
                out.status.success(),
                "apt-get download docker-registry: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let deb = fs::read_dir(&debs)
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|e| e == "deb"))
                .expect("the downloaded .deb");
            let status = Command::new("dpkg")
                .arg("-x")
                .arg(&deb)
                .arg(&cache)
                .status()
                .unwrap();
            assert!(status.success(), "dpkg -x {}", deb.display());
        }
        assert!(bin.exists(), "{} missing after dpkg -x", bin.display());
        bin
    })
}

/// A port nothing listens on right now (the registry binds it a moment later).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something accepts connections on the port (the registry is up).
fn wait_listening(port: u16, child: &mut Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "docker-registry exited ({status}): {}",
                fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "docker-registry never listened on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub struct Tls {
    /// A certs.d base dir holding `127.0.0.1:PORT/ca.crt`: `MDRUN_CERTS_DIRS`.
    pub certs_dirs: PathBuf,
    pub user: String,
    pub password: String,
}

pub struct Registry {
    pub port: u16,
    pub dir: PathBuf,
    child: Child,
    pub tls: Option<Tls>,
}

impl Registry {
    /// A plain HTTP registry.
    pub fn start(dir: &Path) -> Registry {
        Registry::spawn(dir, false)
    }

    /// HTTPS with a test CA, and htpasswd basic auth (user `tester`).
    pub fn start_tls(dir: &Path) -> Registry {
        Registry::spawn(dir, true)
    }

    fn spawn(dir: &Path, tls: bool) -> Registry {
        let bin = registry_binary();
        let dir = dir.join(format!("registry-{}", free_port()));
        fs::create_dir_all(dir.join("storage")).unwrap();
        let port = free_port();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
             validation:\n  manifests:\n    urls:\n      allow:\n        - ^https://\n\
             http:\n  addr: 127.0.0.1:{port}\n",
            dir.join("storage").display()
        );
        let tls = tls.then(|| {
            make_certs(&dir, port);
            config += &format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                dir.join("cert.pem").display(),
                dir.join("key.pem").display()
            );
            let out = Command::new("htpasswd")
                .args(["-Bbn", "tester", "s3cret"])
                .output()
                .expect("htpasswd (apache2-utils)");
            assert!(out.status.success());
            fs::write(dir.join("htpasswd"), &out.stdout).unwrap();
            config += &format!(
                "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
                dir.join("htpasswd").display()
            );
            Tls {
                certs_dirs: dir.join("certs.d"),
                user: "tester".into(),
                password: "s3cret".into(),
            }
        });
        fs::write(dir.join("config.yml"), config).unwrap();
        let log = dir.join("registry.log");
        let mut child = Command::new(bin)
            .arg("serve")
            .arg(dir.join("config.yml"))
            .stdin(Stdio::null())
            .stdout(fs::File::create(&log).unwrap())
            .stderr(fs::File::create(dir.join("registry.err")).unwrap())
            .spawn()
            .expect("start docker-registry");
        wait_listening(port, &mut child, &dir.join("registry.err"));
        Registry {
            port,
            dir,
            child,
            tls,
        }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Blob GETs the registry served so far (from its access log).
    pub fn blob_gets(&self) -> usize {
        let log = fs::read_to_string(self.dir.join("registry.err")).unwrap_or_default()
            + &fs::read_to_string(self.dir.join("registry.log")).unwrap_or_default();
        log.lines()
            .filter(|l| l.contains("\"GET /v2/") && l.contains("/blobs/sha256:"))
            .count()
    }

    /// The stored bytes of blob `sha256:<hex>`.
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.dir
            .join("storage/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A CA and a server certificate for 127.0.0.1 signed by it; the CA goes to
/// `dir/certs.d/127.0.0.1:PORT/ca.crt`.
fn make_certs(dir: &Path, port: u16) {
    let ssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    ssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=mdrun test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ]);
    ssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "key.pem",
        "-out",
        "req.csr",
    ]);
    fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
         keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    ssl(&[
        "x509",
        "-req",
        "-in",
        "req.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "cert.pem",
    ]);
    let certs = dir.join("certs.d").join(format!("127.0.0.1:{port}"));
    fs::create_dir_all(&certs).unwrap();
    fs::copy(dir.join("ca.crt"), certs.join("ca.crt")).unwrap();
}

/// What the proxy does besides forwarding.
#[derive(Clone, Copy)]
pub enum Mode {
    /// Requires `Authorization: Bearer <token>`, served at `/token` (counted).
    Bearer,
    /// Answers 500 to the first N requests for blobs.
    FailBlobs(usize),
    /// Cuts the first layer-sized blob response after this many bytes.
    CutBlobAfter(usize),
    /// Answers 500 to the first N uploads of blob data (`PUT` or `PATCH` to an upload).
    FailUploads(usize),
}

const TOKEN: &str = "test-token-7f3a";

/// A test-only HTTP proxy in front of a registry, on its own loopback port.
pub struct Proxy {
    pub port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    pub counts: std::sync::Arc<std::sync::Mutex<ProxyCounts>>,
}

#[derive(Default, Debug, Clone)]
pub struct ProxyCounts {
    pub tokens: usize,
    pub unauthorized: usize,
    pub failed: usize,
    pub cut: usize,
    pub ranges: usize,
}

impl Proxy {
    pub fn start(upstream: u16, mode: Mode) -> Proxy {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::{Arc, Mutex};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let counts = Arc::new(Mutex::new(ProxyCounts::default()));
        let (stop2, counts2) = (stop.clone(), counts.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let counts = counts2.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, upstream, port, mode, &counts);
                });
            }
        });
        Proxy { port, stop, counts }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn counts(&self) -> ProxyCounts {
        self.counts.lock().unwrap().clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn respond(conn: &mut TcpStream, status: &str, headers: &str, body: &str) -> std::io::Result<()> {
    write!(
        conn,
        "HTTP/1.1 {status}\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
}

/// One request per connection: answered here, or forwarded with `Connection: close`.
fn serve(
    mut conn: TcpStream,
    upstream: u16,
    own_port: u16,
    mode: Mode,
    counts: &std::sync::Mutex<ProxyCounts>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte)? == 0 {
            return Ok(());
        }
        // A TLS ClientHello (mdrun tries HTTPS first): not spoken here, hang up as a
        // plain HTTP server does.
        if head.is_empty() && byte[0] == 0x16 {
            return respond(&mut conn, "400 Bad Request", "", "");
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let path = head.split(' ').nth(1).unwrap_or("").to_string();
    let header = |name: &str| {
        head.lines()
            .find(|l| {
                l.to_ascii_lowercase()
                    .starts_with(&format!("{}:", name.to_ascii_lowercase()))
            })
            .map(|l| l.split_once(':').unwrap().1.trim().to_string())
    };
    let is_blob = path.contains("/blobs/sha256:");
    match mode {
        Mode::Bearer => {
            if path.starts_with("/token") {
                counts.lock().unwrap().tokens += 1;
                return respond(
                    &mut conn,
                    "200 OK",
                    "",
                    &format!("{{\"token\":\"{TOKEN}\"}}"),
                );
            }
            if header("Authorization").as_deref() != Some(&format!("Bearer {TOKEN}")) {
                counts.lock().unwrap().unauthorized += 1;
                let challenge = format!(
                    "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:{own_port}/token\",service=\"test\"\r\n"
                );
                return respond(
                    &mut conn,
                    "401 Unauthorized",
                    &challenge,
                    r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
                );
            }
        }
        Mode::FailUploads(n)
            if path.contains("/blobs/uploads/")
                && (head.starts_with("PUT ") || head.starts_with("PATCH ")) =>
        {
            let mut c = counts.lock().unwrap();
            if c.failed < n {
                c.failed += 1;
                // Read the body first, as a server that fails after receiving it does.
                let len = header("Content-Length").and_then(|l| l.parse().ok());
                std::io::copy(
                    &mut (&mut conn).take(len.unwrap_or(0)),
                    &mut std::io::sink(),
                )?;
                return respond(&mut conn, "500 Internal Server Error", "", "{}");
            }
        }
        Mode::FailBlobs(n) if is_blob => {
            let mut c = counts.lock().unwrap();
            if c.failed < n {
                c.failed += 1;
                return respond(&mut conn, "500 Internal Server Error", "", "{}");
            }
        }
        _ => {}
    }
    if header("Range").is_some() {
        counts.lock().unwrap().ranges += 1;
    }
    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    let forwarded: String = head
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:") && !l.is_empty())
        .map(|l| format!("{l}\r\n"))
        .collect::<String>()
        + "Connection: close\r\n\r\n";
    up.write_all(forwarded.as_bytes())?;
    let mut to_up = conn.try_clone()?;
    let mut up_w = up.try_clone()?;
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut to_up, &mut up_w);
    });
    // The first blob response that reaches `n` bytes is cut there (once).
    let mut limit = match mode {
        Mode::CutBlobAfter(n) if is_blob && header("Range").is_none() => Some(n),
        _ => None,
    };
    let mut buf = [0u8; 16 << 10];
    loop {
        let n = up.read(&mut buf)?;
        if n == 0 {
            break;
        }
        match &mut limit {
            Some(left) if *left <= n => {
                let mut c = counts.lock().unwrap();
                if c.cut == 0 {
                    c.cut += 1;
                    conn.write_all(&buf[..*left])?;
                    break;
                }
                drop(c);
                limit = None;
            }
            Some(left) => *left -= n,
            None => {}
        }
        conn.write_all(&buf[..n])?;
    }
    let _ = conn.shutdown(std::net::Shutdown::Both);
    Ok(())
}

/// Scratch for the registries' files under target/tmp (not the scenario's dir: it
/// outlives nothing, each test removes its own).
pub fn scratch(name: &str) -> PathBuf {
    let dir = target_tmp().join("registries").join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

//! Network definitions: the default network `mdrun` (bridge `mdrun0`, 10.88.0.0/16) and
//! user networks, one JSON file each under `<root>/networks/`.

use super::subnet::Subnet;
use crate::error::{Error, IoContext, Result};
use nix::fcntl::{Flock, FlockArg};
use sha2::Digest;
use std::fs::File;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// The default network's name; `bridge` names it too, as docker users write it.
pub const DEFAULT_NAME: &str = "mdrun";
/// 10.88.0.0/16 as podman's default network: not docker's 172.17.0.0/16, so that mdrun and
/// a docker daemon on one host never route the same range to two bridges; a /16 for 65534
/// containers.
pub const DEFAULT_SUBNET: &str = "10.88.0.0/16";
pub const DEFAULT_BRIDGE: &str = "mdrun0";

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Network {
    pub name: String,
    pub bridge: String,
    pub subnet: String,
    pub gateway: Ipv4Addr,
    /// No route out: no gateway address for the containers, no NAT, forwarding dropped.
    #[serde(default)]
    pub internal: bool,
}

impl Network {
    pub fn subnet(&self) -> Subnet {
        Subnet::parse(&self.subnet).expect("a stored network's subnet was checked")
    }

    fn default_network() -> Network {
        Network {
            name: DEFAULT_NAME.into(),
            bridge: DEFAULT_BRIDGE.into(),
            subnet: DEFAULT_SUBNET.into(),
            gateway: Ipv4Addr::new(10, 88, 0, 1),
            internal: false,
        }
    }
}

pub fn dir(root: &Path) -> PathBuf {
    root.join("networks")
}

fn file(root: &Path, name: &str) -> PathBuf {
    dir(root).join(format!("{name}.json"))
}

/// The lock held while definitions are made or removed.
pub(super) fn lock_defs(root: &Path) -> Result<Flock<File>> {
    let d = dir(root);
    crate::private_dirs::create(&d).ctx("mkdir", &d)?;
    let path = d.join(".lock");
    let f = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .ctx("open", &path)?;
    Flock::lock(f, FlockArg::LockExclusive).map_err(|(_, e)| Error::Io {
        step: "flock",
        path,
        source: e.into(),
    })
}

/// The network `name` (`bridge` is the default network).
pub fn load(root: &Path, name: &str) -> Result<Network> {
    if name == DEFAULT_NAME || name == "bridge" {
        return Ok(Network::default_network());
    }
    let path = file(root, name);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| Error::Usage(format!("read network {}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(Error::Usage(format!("no such network: {name}")))
        }
        Err(e) => Err(Error::Io {
            step: "read network",
            path,
            source: e,
        }),
    }
}

/// Every network, the default first, then by name.
pub fn list(root: &Path) -> Result<Vec<Network>> {
    let mut names: Vec<String> = match std::fs::read_dir(dir(root)) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.strip_suffix(".json").map(str::to_string)
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    let mut out = vec![Network::default_network()];
    for n in names {
        out.push(load(root, &n)?);
    }
    Ok(out)
}

/// What `network create` asks for.
pub struct CreateRequest<'a> {
    pub name: &'a str,
    pub subnet: Option<&'a str>,
    pub gateway: Option<&'a str>,
    pub internal: bool,
}

/// Record a new user network (its bridge is made when a container first joins it).
pub fn create(root: &Path, req: &CreateRequest<'_>) -> Result<Network> {
    crate::parse::name(req.name)?;
    if req.name == DEFAULT_NAME || ["bridge", "host", "none"].contains(&req.name) {
        return Err(Error::Usage(format!(
            "network name {:?} is reserved",
            req.name
        )));
    }
    let _lock = lock_defs(root)?;
    let existing = list(root)?;
    if existing.iter().any(|n| n.name == req.name) {
        return Err(Error::Usage(format!("network {} already exists", req.name)));
    }
    let taken: Vec<Subnet> = existing.iter().map(|n| n.subnet()).collect();
    let subnet = match req.subnet {
        Some(s) => {
            let s = Subnet::parse(s).map_err(Error::Usage)?;
            if let Some(n) = existing.iter().find(|n| n.subnet().overlaps(&s)) {
                return Err(Error::Usage(format!(
                    "subnet {s} overlaps network {} ({})",
                    n.name, n.subnet
                )));
            }
            s
        }
        // As podman: the first free 10.89.N.0/24.
        None => (0..=255)
            .map(|n| Subnet {
                base: Ipv4Addr::new(10, 89, n, 0),
                prefix: 24,
            })
            .find(|s| !taken.iter().any(|t| t.overlaps(s)))
            .ok_or_else(|| Error::Usage("no free subnet left in 10.89.0.0/16".into()))?,
    };
    let gateway = match req.gateway {
        Some(g) => {
            let ip: Ipv4Addr = g
                .parse()
                .map_err(|_| Error::Usage(format!("invalid gateway {g:?}")))?;
            if !subnet.is_host(ip) {
                return Err(Error::Usage(format!(
                    "gateway {ip} is not a host address of subnet {subnet}"
                )));
            }
            ip
        }
        None => subnet.nth(1),
    };
    let hash = sha2::Sha256::digest(req.name.as_bytes());
    let bridge = format!(
        "mdbr{:02x}{:02x}{:02x}{:02x}",
        hash[0], hash[1], hash[2], hash[3]
    );
    let net = Network {
        name: req.name.to_string(),
        bridge,
        subnet: subnet.to_string(),
        gateway,
        internal: req.internal,
    };
    let path = file(root, req.name);
    let tmp = path.with_extension("json.tmp");
    std::fs::write(
        &tmp,
        serde_json::to_vec_pretty(&net).expect("serialize a network"),
    )
    .ctx("write", &tmp)?;
    std::fs::rename(&tmp, &path).ctx("rename", &path)?;
    Ok(net)
}

/// Forget the user network `name`'s definition (the caller checked that nothing uses it).
pub(super) fn remove_file(root: &Path, name: &str) -> Result<()> {
    let path = file(root, name);
    std::fs::remove_file(&path).ctx("remove", &path)
}

//! Addresses of a network: `<root>/networks/<name>.leases`, a line a container
//! (`IP ID NAME [ALIAS,...]`), changed only under an flock of that file. A lease whose
//! container record is gone (a `run` killed before it could free it) is reclaimed by the
//! next allocation. The containers' /etc/hosts files are rewritten from the leases under the
//! same lock, so that containers on one network find each other by name.

use super::def::{self, Network};
use super::files;
use crate::error::{Error, IoContext, Result};
use nix::fcntl::{Flock, FlockArg};
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub ip: Ipv4Addr,
    pub id: String,
    pub name: String,
    pub aliases: Vec<String>,
}

pub fn leases_path(root: &Path, network: &str) -> PathBuf {
    def::dir(root).join(format!("{network}.leases"))
}

/// The leases file of a network, locked; read, changed, written back in place.
struct Leases {
    network: String,
    file: Flock<File>,
    path: PathBuf,
    list: Vec<Lease>,
}

impl Leases {
    fn open(root: &Path, network: &str) -> Result<Leases> {
        let d = def::dir(root);
        crate::private_dirs::create(&d).ctx("mkdir", &d)?;
        let path = leases_path(root, network);
        let f = File::options()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .ctx("open", &path)?;
        let mut file = Flock::lock(f, FlockArg::LockExclusive).map_err(|(_, e)| Error::Io {
            step: "flock",
            path: path.clone(),
            source: e.into(),
        })?;
        let mut text = String::new();
        file.read_to_string(&mut text).ctx("read", &path)?;
        let list = text.lines().filter_map(parse_line).collect();
        Ok(Leases {
            network: network.to_string(),
            file,
            path,
            list,
        })
    }

    fn save(&mut self) -> Result<()> {
        let mut text = String::new();
        for l in &self.list {
            text.push_str(&format!(
                "{} {} {} {}\n",
                l.ip,
                l.id,
                l.name,
                l.aliases.join(",")
            ));
        }
        self.file.set_len(0).ctx("truncate", &self.path)?;
        self.file.rewind().ctx("seek", &self.path)?;
        self.file
            .write_all(text.as_bytes())
            .ctx("write", &self.path)
    }

    /// Drop leases whose container has no record any more.
    fn reclaim(&mut self, containers: &Path) -> bool {
        let before = self.list.len();
        self.list.retain(|l| containers.join(&l.id).is_dir());
        self.list.len() != before
    }
}

fn parse_line(line: &str) -> Option<Lease> {
    let mut it = line.split(' ');
    let ip = it.next()?.parse().ok()?;
    let id = it.next()?.to_string();
    let name = it.next()?.to_string();
    let aliases = it
        .next()
        .unwrap_or("")
        .split(',')
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect();
    Some(Lease {
        ip,
        id,
        name,
        aliases,
    })
}

/// What a container asks of a network's address space.
pub struct Want<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub aliases: &'a [String],
    /// `--ip`: this address or an error.
    pub ip: Option<Ipv4Addr>,
}

/// Lease an address of `net` to container `want.id` (its old lease, if any, is replaced),
/// and bring every container's /etc/hosts on the network up to date.
pub fn allocate(
    root: &Path,
    containers: &Path,
    net: &Network,
    want: &Want<'_>,
) -> Result<Ipv4Addr> {
    let subnet = net.subnet();
    let mut leases = Leases::open(root, &net.name)?;
    leases.reclaim(containers);
    leases.list.retain(|l| l.id != want.id);
    let taken = |ip: Ipv4Addr, list: &[Lease]| ip == net.gateway || list.iter().any(|l| l.ip == ip);
    let ip = match want.ip {
        Some(ip) => {
            if !subnet.is_host(ip) {
                return Err(Error::Usage(format!(
                    "--ip {ip}: not a host address of network {} ({subnet})",
                    net.name
                )));
            }
            if taken(ip, &leases.list) {
                return Err(Error::Usage(format!(
                    "--ip {ip}: the address is already in use on network {}",
                    net.name
                )));
            }
            ip
        }
        None => (1..=subnet.hosts())
            .map(|n| subnet.nth(n))
            .find(|ip| !taken(*ip, &leases.list))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "network {}: no free address left in {subnet}",
                    net.name
                ))
            })?,
    };
    leases.list.push(Lease {
        ip,
        id: want.id.to_string(),
        name: want.name.to_string(),
        aliases: want.aliases.to_vec(),
    });
    leases.save()?;
    files::refresh_hosts(containers, &leases.network, &leases.list);
    Ok(ip)
}

/// Free container `id`'s lease on `network` (nothing when it has none).
pub fn release(root: &Path, containers: &Path, network: &str, id: &str) -> Result<()> {
    if !leases_path(root, network).exists() {
        return Ok(());
    }
    let mut leases = Leases::open(root, network)?;
    let reclaimed = leases.reclaim(containers);
    let before = leases.list.len();
    leases.list.retain(|l| l.id != id);
    if reclaimed || leases.list.len() != before {
        leases.save()?;
        files::refresh_hosts(containers, &leases.network, &leases.list);
    }
    Ok(())
}

/// The leases of `network` whose containers still have records (stale ones are dropped).
pub fn current(root: &Path, containers: &Path, network: &str) -> Result<Vec<Lease>> {
    if !leases_path(root, network).exists() {
        return Ok(Vec::new());
    }
    let mut leases = Leases::open(root, network)?;
    if leases.reclaim(containers) {
        leases.save()?;
    }
    Ok(leases.list.clone())
}

/// Rewrite the hosts files of `network`'s containers from its leases.
pub fn refresh(root: &Path, containers: &Path, network: &str) -> Result<()> {
    let leases = Leases::open(root, network)?;
    files::refresh_hosts(containers, &leases.network, &leases.list);
    Ok(())
}

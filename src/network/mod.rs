//! Container networks: the default bridge network `mdrun` and user networks (`def`), their
//! addresses (`ipam`), a container's link into them (`attach`, over rtnetlink: `rtnl`), its
//! /etc/hosts and /etc/resolv.conf (`files`), NAT and published ports (`nat`, `ports`).
//!
//! A container's network is planned before its init is cloned (an address leased, its
//! files written, its host ports chosen: `plan`), linked after the clone while the init
//! builds its root (`attach`), and given up when it ends (`Attached::detach`), or by `rm`
//! and `prune` after a crash (`release_container`).

mod attach;
pub mod connect;
pub mod def;
mod files;
mod handoff;
pub mod ipam;
pub mod manage;
pub mod nat;
pub mod netns;
mod nfset;
pub mod ports;
mod rtnl;
mod subnet;

pub use attach::{attach, Attached};
pub use def::Network;
pub use ports::PortMap;

use crate::error::{Error, IoContext, Result};
use crate::rootfs::Mount;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// What `run` asks of the network (flags and the TOML file).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NetworkSpec {
    /// `none`, `host`, `bridge` (the default network), a network's name, or
    /// `container:NAME`; empty: the global config's `network`.
    #[serde(default)]
    pub mode: String,
    #[serde(default)]
    pub ports: Vec<PortMap>,
    /// `-P`: the image's ExposedPorts on free host ports.
    #[serde(default)]
    pub publish_all: bool,
    #[serde(default)]
    pub dns: Vec<String>,
    #[serde(default)]
    pub dns_search: Vec<String>,
    /// `--add-host NAME:IP`.
    #[serde(default)]
    pub add_hosts: Vec<(String, String)>,
    #[serde(default)]
    pub ip: Option<Ipv4Addr>,
    #[serde(default)]
    pub mac: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// Where a container's network comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// A network namespace with loopback only.
    None,
    /// The host's network namespace.
    Host,
    /// A veth into the bridge of this network.
    Bridge(String),
    /// Another container's network namespace.
    Container(String),
}

impl Mode {
    pub fn parse(s: &str) -> Result<Mode> {
        Ok(match s {
            "none" => Mode::None,
            "host" => Mode::Host,
            "bridge" | "default" => Mode::Bridge(def::DEFAULT_NAME.into()),
            "" => return Err(Error::Usage("--network: empty".into())),
            s => match s.strip_prefix("container:") {
                Some("") => return Err(Error::Usage("--network container: needs a name".into())),
                Some(c) => Mode::Container(c.to_string()),
                None => {
                    crate::parse::name(s)?;
                    Mode::Bridge(s.to_string())
                }
            },
        })
    }
}

/// Check the parts of `spec` that need no store: ports, `--ip`, `--mac-address`, hosts.
pub fn validate(spec: &NetworkSpec) -> Result<()> {
    let mode = Mode::parse(&spec.mode)?;
    let bridged = matches!(mode, Mode::Bridge(_));
    if !bridged && (!spec.ports.is_empty() || spec.publish_all) {
        return Err(Error::Usage(format!(
            "-p/-P need a bridge network (--network {} publishes nothing)",
            spec.mode
        )));
    }
    if !bridged && (spec.ip.is_some() || spec.mac.is_some() || !spec.aliases.is_empty()) {
        return Err(Error::Usage(format!(
            "--ip, --mac-address and --network-alias need a bridge network, not {}",
            spec.mode
        )));
    }
    if let Some(m) = &spec.mac {
        parse_mac(m)?;
    }
    for a in &spec.aliases {
        crate::parse::hostname(a)?;
    }
    // Each becomes a word of resolv.conf's `search` line: a domain name ("." for none).
    for d in spec.dns_search.iter().filter(|d| d.as_str() != ".") {
        crate::parse::hostname(d).map_err(|e| {
            Error::Usage(format!(
                "invalid --dns-search {d:?}: not a domain name ({e})"
            ))
        })?;
    }
    Ok(())
}

pub fn parse_mac(s: &str) -> Result<[u8; 6]> {
    let bad = || {
        Error::Usage(format!(
            "invalid --mac-address {s:?} (expected aa:bb:cc:dd:ee:ff)"
        ))
    };
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() != 6 {
        return Err(bad());
    }
    let mut mac = [0u8; 6];
    for (b, p) in mac.iter_mut().zip(parts) {
        if p.len() != 2 {
            return Err(bad());
        }
        *b = u8::from_str_radix(p, 16).map_err(|_| bad())?;
    }
    if mac[0] & 1 == 1 {
        return Err(Error::Usage(format!(
            "invalid --mac-address {s}: a multicast address"
        )));
    }
    Ok(mac)
}

/// A container's place on its network while it has one: `<containers>/<id>/network.json`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Assignment {
    pub network: String,
    pub bridge: String,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Ipv4Addr,
    pub internal: bool,
    pub mac: Option<[u8; 6]>,
    /// The host side of the container's veth.
    pub veth: String,
    /// Published ports, host ports chosen.
    pub ports: Vec<PortMap>,
    /// Its name in the container: eth0 on its first network, eth1... on those it was
    /// connected to later (`connect`).
    #[serde(default = "first_iface")]
    pub iface: String,
    /// The network namespace its veth and ports are in: the one `run` (or `network
    /// connect`) ran in. `rm` and `prune` remove them there, from wherever they run.
    #[serde(default)]
    pub netns: Option<netns::NetNsId>,
}

fn first_iface() -> String {
    "eth0".into()
}

const ASSIGNMENT: &str = "network.json";

impl Assignment {
    pub fn load(data: &Path) -> Option<Assignment> {
        serde_json::from_slice(&std::fs::read(data.join(ASSIGNMENT)).ok()?).ok()
    }
    fn save(&self, data: &Path) -> Result<()> {
        let p = data.join(ASSIGNMENT);
        std::fs::write(&p, serde_json::to_vec(self).expect("serialize")).ctx("write", &p)
    }
}

/// The planned network of a container about to start. It holds the container's lease:
/// dropped without `keep`, it gives the lease back (a start that failed, a container that
/// ended).
#[derive(Debug)]
pub struct Planned {
    pub root: PathBuf,
    pub containers: PathBuf,
    pub id: String,
    pub assignment: Assignment,
    kept: bool,
}

impl Planned {
    /// Another process (the supervisor of `run -d`) owns the lease now.
    pub fn keep(&mut self) {
        self.kept = true;
    }
}

impl Drop for Planned {
    fn drop(&mut self) {
        if !self.kept {
            let _ = release_lease(&self.root, &self.containers, &self.id, &self.assignment);
        }
    }
}

/// What `plan` needs to know of the container.
pub struct Request<'a> {
    pub root: &'a Path,
    pub containers: &'a Path,
    pub id: &'a str,
    pub name: &'a str,
    pub hostname: &'a str,
    /// Its data directory: where network.json, hosts and resolv.conf go.
    pub data: &'a Path,
    pub spec: &'a NetworkSpec,
    /// The image's ExposedPorts, for `-P`.
    pub exposed: &'a [String],
}

/// Before the clone: lease an address, choose host ports, write hosts and resolv.conf, and
/// say what the init mounts over /etc/hosts and /etc/resolv.conf. None for `none`, `host`
/// and `container:` networks.
pub fn plan(req: &Request<'_>, mounts: &mut Vec<Mount>) -> Result<Option<Planned>> {
    if req.spec.mode.is_empty() {
        return Ok(None);
    }
    let Mode::Bridge(name) = Mode::parse(&req.spec.mode)? else {
        return Ok(None);
    };
    let net = def::load(req.root, &name)?;
    let mut ports = req.spec.ports.clone();
    if req.spec.publish_all {
        ports.extend(ports::exposed(req.exposed));
    }
    for p in &mut ports {
        if p.host_port == 0 {
            p.host_port = nat::pick_host_port(p).ok_or_else(|| {
                Error::Usage(format!("-p {}: no free host port", p.container_port))
            })?;
        } else if !nat::host_port_free(p) {
            return Err(Error::Usage(format!(
                "-p {}:{}/{}: host port {} is already in use",
                p.host_port,
                p.container_port,
                p.proto.name(),
                p.host_port
            )));
        }
    }
    let mac = req.spec.mac.as_deref().map(parse_mac).transpose()?;
    let ip = ipam::allocate(
        req.root,
        req.containers,
        &net,
        &ipam::Want {
            id: req.id,
            name: req.name,
            aliases: &req.spec.aliases,
            ip: req.spec.ip,
        },
    )?;
    // As docker: without --mac-address, 02:42 and the address, so that a neighbour's ARP
    // cache entry for an address given again (the previous holder gone) stays right.
    let mac = mac.or_else(|| {
        let o = ip.octets();
        Some([0x02, 0x42, o[0], o[1], o[2], o[3]])
    });
    let assignment = Assignment {
        network: net.name.clone(),
        bridge: net.bridge.clone(),
        ip,
        prefix: net.subnet().prefix,
        gateway: net.gateway,
        internal: net.internal,
        mac,
        veth: format!("vmd{}", &req.id[..12]),
        ports,
        iface: first_iface(),
        netns: netns::NetNsId::current(),
    };
    assignment.save(req.data)?;
    let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    files::write(
        req.data,
        &files::resolv_conf(&host, &req.spec.dns, &req.spec.dns_search),
        Some((ip, req.hostname)),
        &req.spec.add_hosts,
    )?;
    ipam::refresh(req.root, req.containers, &net.name)?;
    push_file_mounts(req.data, mounts);
    Ok(Some(Planned {
        root: req.root.to_path_buf(),
        containers: req.containers.to_path_buf(),
        id: req.id.to_string(),
        assignment,
        kept: false,
    }))
}

/// `--network host`: the host's /etc/hosts and /etc/resolv.conf, as docker gives them
/// (`files::write_host`), mounted from the container's data directory.
pub fn plan_host(data: &Path, spec: &NetworkSpec, mounts: &mut Vec<Mount>) -> Result<()> {
    files::write_host(data, &spec.add_hosts)?;
    push_file_mounts(data, mounts);
    Ok(())
}

fn push_file_mounts(data: &Path, mounts: &mut Vec<Mount>) {
    for (file, target) in [
        (files::HOSTS, "/etc/hosts"),
        (files::RESOLV, "/etc/resolv.conf"),
    ] {
        mounts.push(Mount {
            source: data.join(file),
            target: PathBuf::from(target),
            read_only: false,
            copy_up: false,
        });
    }
}

/// Give up what container `id` holds on its network (its ports, its leases, its veths),
/// when it ended without doing so itself (`rm`, `prune` after a killed mdrun). Its veth goes
/// with its network namespace, later; it is deleted here so that it is gone when mdrun
/// returns. Ports and veths are removed in the network namespace the container's `run` ran
/// in, wherever this runs (`netns`): entered if it is another one, left alone if it is gone
/// (they went with it).
pub fn release_container(root: &Path, containers: &Path, id: &str) -> Result<()> {
    let data = containers.join(id);
    let first = Assignment::load(&data);
    let release = |links: bool| release_here(root, containers, id, &data, first.as_ref(), links);
    match netns::locate(first.as_ref().and_then(|a| a.netns)) {
        netns::Place::Here => release(true),
        netns::Place::Gone => release(false),
        netns::Place::Elsewhere(ns) => {
            netns::run_in(&ns, || release(true)).map_err(|e| Error::Io {
                step: "enter the network namespace of the container's run",
                path: ns.clone(),
                source: e,
            })?
        }
    }
}

/// `network disconnect` of a running container's first network, as docker allows (it
/// revokes the leaving endpoint's external connectivity, published ports included): its
/// ports and its veth go (eth0, and the default route with it), in the namespace its run ran
/// in, then its lease, its record and that network's peers in its hosts file. The
/// container's supervisor finds the record gone when the container ends and removes no
/// port then (`Attached::detach`).
pub fn leave_first(root: &Path, containers: &Path, id: &str) -> Result<()> {
    let data = containers.join(id);
    let Some(a) = Assignment::load(&data) else {
        return Ok(());
    };
    match netns::locate(a.netns) {
        netns::Place::Here => first_links(&a),
        netns::Place::Gone => {}
        netns::Place::Elsewhere(ns) => {
            netns::run_in(&ns, || first_links(&a)).map_err(|e| Error::Io {
                step: "enter the network namespace of the container's run",
                path: ns.clone(),
                source: e,
            })?
        }
    }
    release_lease(root, containers, id, &a)?;
    files::forget_network(&data, &a.network);
    Ok(())
}

/// The first network's ports and veth, in this thread's network namespace.
fn first_links(a: &Assignment) {
    if !a.ports.is_empty() {
        let sock = nfset::open().ok();
        nat::unpublish(&a.ports, sock.as_ref());
        if let Some(sock) = sock {
            handoff::close_elsewhere(sock);
        }
    }
    attach::delete_veth(&a.veth);
}

/// `release_container` in the right namespace; `links`: its ports and veths are there to be
/// removed.
fn release_here(
    root: &Path,
    containers: &Path,
    id: &str,
    data: &Path,
    first: Option<&Assignment>,
    links: bool,
) -> Result<()> {
    connect::release_extras(
        &connect::Target {
            root,
            containers,
            id,
            name: "",
            data,
        },
        links,
    );
    let Some(a) = first else {
        return Ok(());
    };
    if links {
        first_links(a);
    }
    release_lease(root, containers, id, a)
}

/// The lease and the record of it (its ports are not touched).
fn release_lease(root: &Path, containers: &Path, id: &str, a: &Assignment) -> Result<()> {
    ipam::release(root, containers, &a.network, id)?;
    let p = containers.join(id).join(ASSIGNMENT);
    match std::fs::remove_file(&p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e).ctx("remove", &p),
        _ => Ok(()),
    }
}

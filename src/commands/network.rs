//! `mdrun network create|ls|inspect|rm|prune` and `mdrun port`.

use crate::cli::{NetworkArgs, NetworkCommand, PortArgs};
use crate::config::GlobalConfig;
use crate::error::{Error, Result};
use crate::network::{self, def, ipam};
use crate::paths::Paths;
use crate::state::Status;

fn paths() -> Result<Paths> {
    let global = GlobalConfig::load()?;
    Paths::open(&global.root, &global.run_root)
}

pub fn run(args: &NetworkArgs) -> Result<i32> {
    let paths = paths()?;
    let (root, containers) = (&paths.root, &paths.containers());
    match &args.command {
        NetworkCommand::Create(a) => {
            let net = def::create(
                root,
                &def::CreateRequest {
                    name: &a.name,
                    subnet: a.subnet.as_deref(),
                    gateway: a.gateway.as_deref(),
                    internal: a.internal,
                },
            )?;
            println!("{}", net.name);
        }
        NetworkCommand::Ls(a) => {
            let nets = def::list(root)?;
            if !a.quiet {
                println!(
                    "{:<20} {:<12} {:<18} {:<15} INTERNAL",
                    "NAME", "BRIDGE", "SUBNET", "GATEWAY"
                );
            }
            for n in nets {
                if a.quiet {
                    println!("{}", n.name);
                } else {
                    println!(
                        "{:<20} {:<12} {:<18} {:<15} {}",
                        n.name, n.bridge, n.subnet, n.gateway, n.internal
                    );
                }
            }
        }
        NetworkCommand::Inspect(a) => {
            let mut out = Vec::new();
            for name in &a.names {
                let net = def::load(root, name)?;
                let leases = ipam::current(root, containers, &net.name)?;
                let mut v = serde_json::to_value(&net).expect("serialize a network");
                v["containers"] = leases
                    .iter()
                    .map(|l| {
                        serde_json::json!({"id": l.id, "name": l.name, "ip": l.ip.to_string(),
                                           "aliases": l.aliases})
                    })
                    .collect();
                out.push(v);
            }
            println!("{}", serde_json::to_string_pretty(&out).expect("serialize"));
        }
        NetworkCommand::Rm(a) => {
            for name in &a.names {
                network::manage::remove(root, containers, name)?;
                println!("{name}");
            }
        }
        NetworkCommand::Prune => {
            for name in network::manage::prune(root, containers)? {
                println!("{name}");
            }
        }
        NetworkCommand::Connect(a) => {
            let ip = match &a.ip {
                Some(s) => Some(s.parse().map_err(|_| {
                    Error::Usage(format!("invalid --ip {s:?} (expected an IPv4 address)"))
                })?),
                None => None,
            };
            let (record, _) = crate::container::lookup(&paths, &a.container)?;
            let pid = match (record.status, record.pid) {
                (Status::Running, Some(pid)) => pid,
                _ => {
                    return Err(Error::Usage(format!(
                        "network connect: container {} is not running",
                        record.name
                    )))
                }
            };
            let data = paths.container(&record.id);
            let t = target(&paths, containers, &record, &data);
            network::connect::connect(&t, pid, &a.network, ip, &a.aliases)?;
        }
        NetworkCommand::Disconnect(a) => {
            let (record, _) = crate::container::lookup(&paths, &a.container)?;
            let data = paths.container(&record.id);
            network::connect::disconnect(&target(&paths, containers, &record, &data), &a.network)?;
        }
    }
    Ok(0)
}

fn target<'a>(
    paths: &'a Paths,
    containers: &'a std::path::Path,
    record: &'a crate::state::Record,
    data: &'a std::path::Path,
) -> network::connect::Target<'a> {
    network::connect::Target {
        root: &paths.root,
        containers,
        id: &record.id,
        name: &record.name,
        data,
    }
}

/// `mdrun port NAME`: `80/tcp -> 0.0.0.0:8080`, as docker prints it.
pub fn port(args: &PortArgs) -> Result<i32> {
    let paths = paths()?;
    let (record, _) = crate::container::lookup(&paths, &args.container)?;
    if let Some(a) = network::Assignment::load(&paths.container(&record.id)) {
        for p in &a.ports {
            let ip = p
                .host_ip
                .map(|i| i.to_string())
                .unwrap_or_else(|| "0.0.0.0".into());
            println!(
                "{}/{} -> {ip}:{}",
                p.container_port,
                p.proto.name(),
                p.host_port
            );
        }
    }
    Ok(0)
}

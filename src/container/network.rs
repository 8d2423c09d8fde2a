//! A container's network before it starts: which network namespace its init gets, and on a
//! bridge network its planned place (lease, ports, hosts and resolv.conf mounts).

use super::dirs::ContainerDirs;
use crate::error::{Error, Result};
use crate::image::Image;
use crate::launch::NetNs;
use crate::network::{self, Mode, Planned};
use crate::paths::Paths;
use crate::rootfs::Mount;
use crate::spec::ContainerSpec;
use crate::state::{Record, Status};

pub fn plan(
    paths: &Paths,
    spec: &ContainerSpec,
    image: &Image,
    record: &Record,
    dirs: &ContainerDirs,
    mounts: &mut Vec<Mount>,
) -> Result<(Option<Planned>, NetNs)> {
    let mode = match spec.network.mode.as_str() {
        "" => Mode::None,
        m => Mode::parse(m)?,
    };
    match mode {
        Mode::None => Ok((None, NetNs::New)),
        Mode::Host => {
            network::plan_host(&dirs.data, &spec.network, mounts)?;
            Ok((None, NetNs::Host))
        }
        Mode::Container(other) => {
            let (r, _) = super::lookup(paths, &other)?;
            let pid = match (r.status, r.pid) {
                (Status::Running, Some(pid)) => pid,
                _ => {
                    return Err(Error::Usage(format!(
                        "--network container:{other}: the container is not running"
                    )))
                }
            };
            let path = format!("/proc/{pid}/ns/net");
            let fd = std::fs::File::open(&path).map_err(|e| Error::Io {
                step: "open the network namespace of",
                path: path.into(),
                source: e,
            })?;
            Ok((None, NetNs::Join(fd.into())))
        }
        Mode::Bridge(_) => {
            let planned = network::plan(
                &network::Request {
                    root: &paths.root,
                    containers: &paths.containers(),
                    id: &record.id,
                    name: &record.name,
                    hostname: &record.hostname,
                    data: &dirs.data,
                    spec: &spec.network,
                    exposed: &image.config.exposed_ports,
                },
                mounts,
            )?;
            Ok((planned, NetNs::New))
        }
    }
}

//! `mdrun cp CONTAINER:SRC DEST|-` and `mdrun cp SRC|- CONTAINER:DEST`: files out of and
//! into a running container, as tar streams (see `container::cp`). A host path with a
//! colon in it is written `./a:b` (or absolute), as with docker.

use crate::cli::CpArgs;
use crate::config::GlobalConfig;
use crate::container::{self, CopyIn, CopyOut};
use crate::error::{Error, Result};
use crate::paths::Paths;
use std::path::Path;

pub fn run(args: &CpArgs) -> Result<i32> {
    let (src, dest) = (side(&args.src), side(&args.dest));
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    match (src, dest) {
        (Side::Container(c, p), Side::Host(h)) => {
            let out = match h {
                "-" => CopyOut::Stream(Box::new(std::io::stdout())),
                h => CopyOut::Host(Path::new(h)),
            };
            container::copy_out(&paths, c, p, out)?;
        }
        (Side::Host(h), Side::Container(c, p)) => {
            let input = match h {
                "-" => CopyIn::Stream(Box::new(std::io::stdin().lock())),
                h => CopyIn::Host(Path::new(h)),
            };
            container::copy_in(&paths, c, input, p)?;
        }
        _ => {
            return Err(Error::Usage(
                "cp copies between a container and the host: one of the two paths must be \
                 CONTAINER:PATH, the other a host path or -"
                    .into(),
            ))
        }
    }
    Ok(0)
}

enum Side<'a> {
    Host(&'a str),
    Container(&'a str, &'a str),
}

fn side(arg: &str) -> Side<'_> {
    if arg == "-" || arg.starts_with('/') || arg.starts_with('.') {
        return Side::Host(arg);
    }
    match arg.split_once(':') {
        Some((c, p)) if !c.is_empty() => Side::Container(c, p),
        _ => Side::Host(arg),
    }
}

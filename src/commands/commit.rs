//! `mdrun commit [--pause=false] CONTAINER NAME[:TAG]`: a new image made of the container's
//! image layers plus its write layer as one more layer (see `container::commit`); prints
//! its id like `docker commit`.

use crate::cli::CommitArgs;
use crate::config::GlobalConfig;
use crate::container;
use crate::error::{IoContext, Result};
use crate::paths::Paths;
use std::io::Write;

pub fn run(args: &CommitArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    let committed = container::commit(&paths, &args.container, &args.image, args.pause)?;
    if committed.xattrs_skipped > 0 {
        eprintln!(
            "mdrun: warning: {} extended attribute(s) were not kept: the file system under {} \
             does not take them",
            committed.xattrs_skipped,
            paths.layers().display()
        );
    }
    writeln!(std::io::stdout().lock(), "sha256:{}", committed.image.id)
        .ctx("write", "standard output")?;
    Ok(0)
}

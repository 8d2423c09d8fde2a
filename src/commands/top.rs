//! `mdrun top CONTAINER [ps OPTIONS]`: the container's processes, as the host's `ps`
//! shows them (default `-ef`; see `container::top`).

use crate::cli::TopArgs;
use crate::config::GlobalConfig;
use crate::container;
use crate::error::{IoContext, Result};
use crate::paths::Paths;
use std::io::Write;

pub fn run(args: &TopArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    let text = container::top(&paths, &args.container, &args.ps_args)?;
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .ctx("write", "standard output")?;
    Ok(0)
}

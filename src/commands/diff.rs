//! `mdrun diff CONTAINER`: `A /path`, `C /path`, `D /path`, a line a change (see
//! `container::diff`).

use crate::cli::DiffArgs;
use crate::config::GlobalConfig;
use crate::container;
use crate::error::{IoContext, Result};
use crate::paths::Paths;
use std::io::Write;

pub fn run(args: &DiffArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    let changes = container::diff(&paths, &args.container)?;
    let mut text = String::new();
    for (change, path) in changes {
        text += &format!("{} {}\n", change.letter(), path.display());
    }
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .ctx("write", "standard output")?;
    Ok(0)
}

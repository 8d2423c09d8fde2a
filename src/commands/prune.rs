//! `mdrun prune`: remove every stopped container and what killed commands left behind
//! (see `container::prune`); prints what went, as docker does, and each error on stderr.

use crate::cli::PruneArgs;
use crate::config::GlobalConfig;
use crate::container;
use crate::error::{Error, IoContext, Result};
use crate::paths::Paths;
use std::io::Write;

pub fn run(_args: &PruneArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    let pruned = container::prune(&paths, global.cgroup_parent.as_deref());
    let mut text = String::new();
    if !pruned.containers.is_empty() {
        text.push_str("Deleted Containers:\n");
        pruned
            .containers
            .iter()
            .for_each(|id| text.push_str(&format!("{id}\n")));
    }
    if !pruned.leftovers.is_empty() {
        text.push_str(if text.is_empty() { "" } else { "\n" });
        text.push_str("Deleted leftovers:\n");
        pruned
            .leftovers
            .iter()
            .for_each(|l| text.push_str(&format!("{l}\n")));
    }
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .ctx("write", "standard output")?;
    for e in &pruned.errors {
        eprintln!("mdrun: {e}");
    }
    Ok(pruned.errors.last().map_or(0, Error::exit_code))
}

//! `mdrun supervise ID` (hidden): the main process of a restart policy's systemd service
//! `md-<id>.service`; see `container::supervise`. Its exit status is the policy's decision.

use crate::cli::SuperviseArgs;
use crate::config::GlobalConfig;
use crate::container;
use crate::error::Result;
use crate::image::Store;
use crate::paths::Paths;

pub fn run(args: &SuperviseArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    let store = Store::new(paths.clone());
    container::supervise(&paths, &global, &store, &args.id)
}

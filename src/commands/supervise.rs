//! `mdrun supervise ID` (hidden): the main process of a restart policy's systemd service
//! `md-<id>.service`; see `container::supervise`. Its exit status is the policy's decision.
//! `mdrun supervise --boot` (units/mdrun-restart.service): the `always` and
//! `unless-stopped` containers started again once the host is up.

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
    match &args.id {
        Some(id) => container::supervise(&paths, &global, &store, id),
        None => {
            let mut code = 0;
            for (name, result) in container::start_at_boot(&paths) {
                match result {
                    Ok(()) => println!("{name}"),
                    Err(e) => {
                        eprintln!("mdrun: {e}");
                        code = e.exit_code();
                    }
                }
            }
            Ok(code)
        }
    }
}

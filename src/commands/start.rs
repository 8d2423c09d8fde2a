//! `mdrun start CONTAINER...`: run exited containers again, with their write layer, limits
//! and command (see `container::start`); detached unless `-a`. Prints each container as it
//! was named once it runs (or ran already).

use crate::cli::StartArgs;
use crate::config::GlobalConfig;
use crate::container::{self, Started};
use crate::error::{Error, Result};
use crate::image::Store;
use crate::paths::Paths;

pub fn run(args: &StartArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    if args.attach && args.containers.len() > 1 {
        return Err(Error::Usage(
            "you cannot start and attach multiple containers at once".into(),
        ));
    }
    let store = Store::new(paths.clone());
    for query in &args.containers {
        let started = container::start(
            &paths,
            &global,
            &store,
            query,
            args.attach,
            args.interactive,
        )?;
        match started {
            Started::Ended(code) => return Ok(code),
            Started::WasRunning | Started::Detached => println!("{query}"),
        }
    }
    Ok(0)
}

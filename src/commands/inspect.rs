//! `mdrun inspect CONTAINER|IMAGE...`: a JSON array with the record of each container (a
//! stale one repaired first), or the image's description when no container has that name,
//! id or id prefix. As docker: the array holds what was found, and each name that matches
//! nothing is an error on stderr (exit 125).

use crate::cli::InspectArgs;
use crate::config::GlobalConfig;
use crate::container;
use crate::error::{Error, IoContext, Result};
use crate::image::Store;
use crate::paths::Paths;
use crate::state::StateError;
use std::io::Write;

pub fn run(args: &InspectArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    let mut found = Vec::new();
    let mut code = 0;
    for target in &args.targets {
        match describe(&paths, target) {
            Ok(value) => found.push(value),
            Err(e) => {
                eprintln!("mdrun: {e}");
                code = e.exit_code();
            }
        }
    }
    let text = serde_json::to_string_pretty(&found).expect("values serialize") + "\n";
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .ctx("write", "standard output")?;
    Ok(code)
}

/// The container's record, else the image's description.
pub fn describe(paths: &Paths, target: &str) -> Result<serde_json::Value> {
    match container::lookup(paths, target) {
        Ok((record, _)) => Ok(serde_json::to_value(record).expect("records serialize")),
        Err(Error::State(e)) if matches!(*e, StateError::NoSuchContainer { .. }) => {
            match Store::new(paths.clone()).resolve(target) {
                Ok(image) => Ok(serde_json::to_value(image).expect("images serialize")),
                Err(
                    crate::image::ImageError::Unknown(_)
                    | crate::image::ImageError::InvalidReference { .. },
                ) => Err(StateError::NoSuchObject {
                    query: target.to_string(),
                }
                .into()),
                Err(e) => Err(e.into()),
            }
        }
        Err(e) => Err(e),
    }
}

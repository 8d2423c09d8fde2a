//! `mdrun inspect CONTAINER|IMAGE...`: a JSON array with each container in docker's shape
//! (`inspect_shape`; a stale one repaired first, mdrun's record under `Mdrun`), or the image's description when no container has that name,
//! id or id prefix. As docker: the array holds what was found, and each name that matches
//! nothing is an error on stderr (exit 125).

use super::go_template::{fields_of, Format};
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
    let text = match args.format.as_deref().map(|f| (f, Format::parse(f))) {
        None | Some(("json", _)) => {
            serde_json::to_string_pretty(&found).expect("values serialize") + "\n"
        }
        Some((_, Some(template))) => {
            let objects: Vec<_> = found.iter().map(fields_of).collect();
            template.render(&objects, &Default::default())?
        }
        Some((other, None)) => {
            return Err(Error::Usage(format!(
                "unknown --format {}: use a Go template such as {{{{.State.Status}}}}",
                crate::quote::quoted(other)
            )))
        }
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .ctx("write", "standard output")?;
    Ok(code)
}

/// The container's record, else the image's description.
pub fn describe(paths: &Paths, target: &str) -> Result<serde_json::Value> {
    match container::lookup(paths, target) {
        Ok((record, _)) => Ok(super::inspect_shape::container(
            &record,
            &Store::new(paths.clone()),
            crate::network::Assignment::load(&paths.container(&record.id)),
            crate::network::connect::extras(&paths.container(&record.id)),
        )),
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

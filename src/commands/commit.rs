//! `mdrun commit [--pause=false] CONTAINER NAME[:TAG]`: a new image made of the container's
//! image layers plus its write layer as one more layer, with the image's config; prints
//! its id like `docker commit`. A running container is frozen meanwhile (see `cgroups::freezer`) and
//! its write layer copied; a stopped one's write layer is moved (see `commit_stopped`).

use super::{cleanup, commit_stopped};
use crate::cli::CommitArgs;
use crate::config::GlobalConfig;
use crate::error::{IoContext, Result};
use crate::image::{Reference, Store};
use crate::paths::Paths;
use crate::state::Status;
use std::io::Write;

pub fn run(args: &CommitArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    let id = commit(&paths, &args.container, &args.image, args.pause)?;
    writeln!(std::io::stdout().lock(), "sha256:{id}").ctx("write", "standard output")?;
    Ok(0)
}

/// Commits the container `query` names as `reference`; returns the new image's id.
pub fn commit(paths: &Paths, query: &str, reference: &str, pause: bool) -> Result<String> {
    // A bad name is refused before anything is frozen or written.
    Reference::parse(reference)?;
    let (mut record, _) = cleanup::lookup(paths, query)?;
    let store = Store::new(paths.clone());
    if record.status != Status::Running && !record.auto_remove {
        if let Some(committed) = commit_stopped::commit(paths, &store, &record, reference)? {
            return Ok(committed.image.id);
        }
        // Started meanwhile: committed as a running container.
        record = cleanup::lookup(paths, query)?.0;
    }
    let image = commit_stopped::image_of(&store, &record)?;
    let upper = paths.container(&record.id).join("upper");
    let _frozen = match record.status {
        Status::Running if pause => {
            crate::cgroups::freezer::freeze(&record.cgroup_paths, &record.name)?
        }
        _ => None,
    };
    crate::stop_point::reached("commit:frozen");
    let committed = store.commit(&image, &upper, reference)?;
    if committed.xattrs_skipped > 0 {
        eprintln!(
            "mdrun: warning: {} extended attribute(s) were not kept: the file system under {} \
             does not take them",
            committed.xattrs_skipped,
            paths.layers().display()
        );
    }
    Ok(committed.image.id)
}

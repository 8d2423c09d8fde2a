//! Committing a container: a new image made of the container's image layers plus its write
//! layer as one more layer, with the image's config. A running container is frozen
//! meanwhile (see `cgroups::freezer`) and its write layer copied; a stopped one's write
//! layer is moved (see `commit_stopped`).

use super::commit_stopped;
use super::lookup::lookup;
use crate::error::Result;
use crate::image::{Committed, Reference, Store};
use crate::paths::Paths;
use crate::state::Status;

/// Commits the container `query` names as `reference`; `pause` freezes a running one.
pub fn commit(paths: &Paths, query: &str, reference: &str, pause: bool) -> Result<Committed> {
    // A bad name is refused before anything is frozen or written.
    Reference::parse(reference)?;
    let (mut record, _) = lookup(paths, query)?;
    let store = Store::new(paths.clone());
    if record.status != Status::Running && !record.auto_remove {
        if let Some(committed) = commit_stopped::commit(paths, &store, &record, reference)? {
            return Ok(committed);
        }
        // Started meanwhile: committed as a running container.
        record = lookup(paths, query)?.0;
    }
    let image = commit_stopped::image_of(&store, &record)?;
    let upper = paths.container(&record.id).join("upper");
    let _frozen = match record.status {
        // A paused container stays paused: freezing it again would thaw it afterwards.
        Status::Running if pause && !super::is_paused(&record) => {
            crate::cgroups::freezer::freeze(&record.cgroup_paths, &record.name)?
        }
        _ => None,
    };
    crate::stop_point::reached("commit:frozen");
    Ok(store.commit(&image, &upper, reference)?)
}

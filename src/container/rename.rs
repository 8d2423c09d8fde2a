//! Renaming a container (`mdrun rename`): its record's name, under the store lock that
//! keeps names unique. Its id, scope and cgroup stay; so do the journal fields its log
//! lines were written with.

use crate::error::Result;
use crate::parse;
use crate::paths::Paths;
use crate::state::{self, Record, StoreLock};

/// Give the container `query` names the name `new`; returns its old name.
pub fn rename(paths: &Paths, query: &str, new: &str) -> Result<String> {
    parse::name(new)?;
    let _lock = StoreLock::acquire(&paths.containers())?;
    let found = state::resolve(paths, query)?;
    let dir = paths.container(&found.id);
    let mut record = Record::load(&dir)?;
    if record.name == new {
        return Err(crate::error::Error::Usage(format!(
            "renaming a container to its own name {new:?}"
        )));
    }
    Record::check_name_free(&paths.containers(), new)?;
    let old = std::mem::replace(&mut record.name, new.to_string());
    if let Some(spec) = record.spec.as_mut() {
        spec.name = Some(new.to_string());
    }
    record.save(&dir)?;
    super::events::emit(
        &paths.containers(),
        &record,
        "rename",
        &[("oldName", old.clone())],
    );
    Ok(old)
}

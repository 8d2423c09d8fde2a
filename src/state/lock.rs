//! An exclusive flock over the containers directory, held while a name is checked and
//! claimed, so that two `run --name x` at the same moment cannot both win.

use super::{io, StateError};
use nix::fcntl::{Flock, FlockArg};
use std::fs::File;
use std::path::Path;

pub struct StoreLock {
    _lock: Flock<File>,
}

impl StoreLock {
    pub fn acquire(containers_dir: &Path) -> Result<StoreLock, StateError> {
        crate::private_dirs::create(containers_dir).map_err(io("mkdir", containers_dir))?;
        let path = containers_dir.join(".lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io("open", &path))?;
        let lock = Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, e)| StateError::Io {
            step: "flock",
            path: path.clone(),
            source: e.into(),
        })?;
        Ok(StoreLock { _lock: lock })
    }
}

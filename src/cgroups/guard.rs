//! Removal on every early return: hold a freshly created cgroup in a [`CgroupGuard`] while
//! the container is being set up; `disarm` it once the container runs and someone else
//! (the supervisor, `rm`) owns the cleanup.
//!
//! ```no_run
//! # fn start(_: &dyn mdrun::cgroups::ContainerCgroup) -> Result<i32, mdrun::cgroups::CgroupError> { Ok(1) }
//! use mdrun::cgroups::{backend, CgroupGuard};
//! let cg = CgroupGuard::new(backend().create(None, "mdrun-0123", &Default::default())?);
//! let pid = start(&*cg)?; // on `?` the guard kills what is inside and removes the cgroup
//! cg.add_process(pid)?;
//! let cg = cg.disarm(); // from here on, the caller calls cg.destroy()
//! # Ok::<(), mdrun::cgroups::CgroupError>(())
//! ```

use super::ContainerCgroup;
use std::ops::Deref;

pub struct CgroupGuard {
    cg: Option<Box<dyn ContainerCgroup>>,
}

impl CgroupGuard {
    pub fn new(cg: Box<dyn ContainerCgroup>) -> Self {
        CgroupGuard { cg: Some(cg) }
    }

    /// Keep the cgroup: dropping the guard no longer destroys it.
    pub fn disarm(mut self) -> Box<dyn ContainerCgroup> {
        self.cg
            .take()
            .expect("a guard holds its cgroup until disarmed")
    }
}

impl Deref for CgroupGuard {
    type Target = dyn ContainerCgroup;

    fn deref(&self) -> &Self::Target {
        self.cg
            .as_deref()
            .expect("a guard holds its cgroup until disarmed")
    }
}

impl Drop for CgroupGuard {
    fn drop(&mut self) {
        if let Some(cg) = self.cg.take() {
            // Drop runs on an error path: the error being returned is the one to report,
            // and there is no caller left to hand a second one to.
            let _ = cg.destroy();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::CgroupError;
    use std::cell::Cell;
    use std::path::PathBuf;
    use std::rc::Rc;

    struct Counting(Rc<Cell<u32>>);

    impl ContainerCgroup for Counting {
        fn add_process(&self, _: i32) -> Result<(), CgroupError> {
            Ok(())
        }
        fn procs(&self) -> Vec<i32> {
            Vec::new()
        }
        fn oom_killed(&self) -> bool {
            false
        }
        fn cpu_usage_usec(&self) -> Result<u64, CgroupError> {
            Ok(0)
        }
        fn paths(&self) -> Vec<PathBuf> {
            Vec::new()
        }
        fn destroy(&self) -> Result<(), CgroupError> {
            self.0.set(self.0.get() + 1);
            Ok(())
        }
    }

    #[test]
    fn dropping_the_guard_destroys_and_disarming_does_not() {
        let n = Rc::new(Cell::new(0));
        drop(CgroupGuard::new(Box::new(Counting(n.clone()))));
        assert_eq!(n.get(), 1);
        let kept = CgroupGuard::new(Box::new(Counting(n.clone()))).disarm();
        assert_eq!(n.get(), 1);
        drop(kept);
        assert_eq!(n.get(), 1);
    }
}

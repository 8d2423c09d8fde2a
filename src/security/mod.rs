//! Confining the container's processes: capabilities, no_new_privs, seccomp, masked and
//! read-only paths and the user, with docker's defaults and options (the device filter is the
//! cgroup's: `cgroups::devices`).
//!
//! Split in time like the rest of mdrun: `options` validates the flags into a
//! [`SecuritySpec`] (saved with the container), [`plan`] turns it into a [`SecurityPlan`]
//! in mdrun before the clone (the seccomp BPF is compiled there, once), and the init
//! (or an `exec`'d process) calls [`apply`] as its last step before execve.
//!
//! The order in `apply` is runc's (libcontainer/standard_init_linux.go):
//! no_new_privs; seccomp first if no_new_privs is off (installing a filter without it needs
//! CAP_SYS_ADMIN); the bounding set; the user (setuid with keep-caps); the other capability
//! sets; seccomp last otherwise, so that as few syscalls as possible run under it before
//! execve and none of mdrun's own steps has to be allowed by it.

pub mod caps;
mod options;
pub mod paths;
pub mod seccomp;
pub mod user;

pub use options::{
    parse as parse_options, tmpfs as parse_tmpfs, SecurityArgs, SecuritySpec, TmpfsSpec,
};

use ::caps::CapsHashSet;

#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    #[error("invalid option {}: {reason}", crate::quote::quoted(.input))]
    Option { input: String, reason: String },
    #[error("unknown capability {}", crate::quote::quoted(.name))]
    UnknownCapability { name: String },
    #[error("capabilities: {step}: {reason}")]
    Capabilities { step: &'static str, reason: String },
    #[error("seccomp: {step}: {reason}")]
    Seccomp { step: &'static str, reason: String },
    #[error("unable to find user {user}: {reason}")]
    User { user: String, reason: String },
    #[error("prctl {step}: {source}")]
    Prctl {
        step: &'static str,
        source: nix::Error,
    },
}

/// The compiled form of a [`SecuritySpec`], ready for the init.
#[derive(Debug, Clone)]
pub struct SecurityPlan {
    /// What stays in every capability set (bounding, effective, permitted).
    pub capabilities: CapsHashSet,
    pub no_new_privs: bool,
    /// The compiled filters, or why they could not be compiled (the init then refuses to
    /// start the command rather than run it unfiltered). None: unconfined.
    pub seccomp: Option<Result<seccomp::Programs, String>>,
    /// Mask /proc and /sys paths (everything but `--privileged`).
    pub mask_paths: bool,
    /// Apply the devices cgroup allow list from the host side (v1 hierarchy present, not
    /// privileged). See `cgroups::devices` for what happens without one.
    pub device_filter: bool,
    pub user: Option<String>,
}

impl Default for SecurityPlan {
    /// Everything allowed: what a plan built by hand (tests) gets unless it says otherwise.
    fn default() -> Self {
        SecurityPlan {
            capabilities: caps::supported(),
            no_new_privs: false,
            seccomp: None,
            mask_paths: false,
            device_filter: false,
            user: None,
        }
    }
}

/// Build the plan; compiles the seccomp filter once per run (about 15 µs in a release build).
/// `device_filter_available`: the container's cgroup can carry a device filter
/// (`cgroups::devices::filter_available`); without one, CAP_MKNOD is dropped instead.
pub fn plan(spec: &SecuritySpec, device_filter_available: bool) -> SecurityPlan {
    let device_filter = !spec.privileged && device_filter_available;
    let capabilities = caps::resolve(
        spec.privileged,
        &spec.cap_add,
        &spec.cap_drop,
        device_filter || spec.privileged,
    );
    // Compiled for the final capabilities: an added capability allows its calls again.
    let seccomp = (!spec.privileged && !spec.seccomp_unconfined)
        .then(|| seccomp::compile(&capabilities).map_err(|e| e.to_string()));
    SecurityPlan {
        capabilities,
        no_new_privs: !spec.new_privileges,
        seccomp,
        mask_paths: !spec.privileged,
        device_filter,
        user: spec.user.clone(),
    }
}

/// The last steps before execve, in the init or in an `exec`'d process: see the module
/// comment for the order. `user` overrides the plan's (`exec -u`).
pub fn apply(plan: &SecurityPlan, user: Option<&str>) -> Result<(), SecurityError> {
    let programs = match &plan.seccomp {
        Some(Ok(p)) => Some(p),
        Some(Err(reason)) => {
            return Err(SecurityError::Seccomp {
                step: "compile the filter",
                reason: reason.clone(),
            })
        }
        None => None,
    };
    // Resolve names while the root's files are readable whatever the user.
    let ids = user
        .or(plan.user.as_deref())
        .map(user::resolve)
        .transpose()?;
    if plan.no_new_privs {
        // SAFETY: prctl(PR_SET_NO_NEW_PRIVS) changes a flag of this thread only.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
            return Err(SecurityError::Prctl {
                step: "PR_SET_NO_NEW_PRIVS",
                source: nix::Error::last(),
            });
        }
    } else if let Some(p) = programs {
        seccomp::install(p)?;
    }
    caps::drop_bounding(&plan.capabilities)?;
    if let Some(ids) = ids {
        user::switch(ids)?;
    }
    caps::apply(&plan.capabilities)?;
    if plan.no_new_privs {
        if let Some(p) = programs {
            seccomp::install(p)?;
        }
    }
    Ok(())
}

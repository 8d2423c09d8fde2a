//! mdrun as an OCI runtime (`mdrun-oci`): runc's command line over a runtime-spec bundle.
//!
//! A verb a file. `create` validates config.json (`config`), makes the state directory
//! (`state`) and the cgroup (`cgroup`, cgroupfs or a systemd scope through `crate::systemd`),
//! and clones the init (`init`) with `crate::launch`'s clone; the init builds the bundle's
//! root (`rootfs`, with `crate::rootfs`'s pivot_root), reports ready, and blocks in
//! `accept` on `<root>/<id>/start.sock` until `start` connects; then it applies the
//! process's confinement (`process`, `seccomp`, with `crate::security`'s pieces) and
//! execs. No daemon stays behind: the state is `<root>/<id>/state.json` plus the init
//! itself.

mod cgroup;
mod config;
mod create;
mod delete;
mod device_rules;
mod devices;
mod events;
mod exec;
mod features;
mod hooks;
mod init;
mod keyring;
mod kill;
mod list;
mod log;
mod moveroot;
mod pause;
mod process;
mod propagation;
mod rootfs;
mod sched;
mod scope_join;
mod seccomp;
mod sockaddr;
mod start;
mod state;
mod timens;
mod update;
mod userns;

use crate::cli::oci_args::{OciCli, Verb};
use clap::Parser;

/// `println!` that ignores a closed stdout (`mdrun-oci state X | grep -q running`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}
pub(crate) use out;

/// The runtime-spec version this runtime implements.
pub const SPEC_VERSION: &str = "1.2.0";

/// Every error is one line: what failed, on which path or id.
pub type Result<T> = std::result::Result<T, String>;

pub fn main() -> i32 {
    let cli = OciCli::parse();
    log::init(cli.log.as_deref(), cli.log_format, cli.debug);
    if cli.version {
        out!(
            "mdrun-oci version {}\nspec: {SPEC_VERSION}",
            env!("CARGO_PKG_VERSION")
        );
        return 0;
    }
    let Some(verb) = &cli.verb else {
        eprintln!("mdrun-oci: a verb is needed (see --help)");
        return 1;
    };
    match dispatch(&cli, verb) {
        Ok(code) => code,
        Err(msg) => {
            log::error(&msg);
            1
        }
    }
}

fn dispatch(cli: &OciCli, verb: &Verb) -> Result<i32> {
    let root = &cli.root;
    log::debug(&format!("{verb:?}"));
    match verb {
        Verb::Create(a) => create::create(cli, a).map(|_| 0),
        Verb::Start(a) => start::start(root, &a.id).map(|()| 0),
        Verb::Run(a) => start::run(cli, a),
        Verb::State(a) => state::print_state(root, &a.id).map(|()| 0),
        Verb::Kill(a) => kill::kill(root, a).map(|()| 0),
        Verb::Delete(a) => delete::delete(root, &a.id, a.force).map(|()| 0),
        Verb::Exec(a) => exec::exec(root, a),
        Verb::Pause(a) => pause::pause(root, &a.id, true).map(|()| 0),
        Verb::Resume(a) => pause::pause(root, &a.id, false).map(|()| 0),
        Verb::Ps(a) => list::ps(root, a).map(|()| 0),
        Verb::List(a) => list::list(root, a).map(|()| 0),
        Verb::Update(a) => update::update(root, a).map(|()| 0),
        Verb::Events(a) => events::events(root, a).map(|()| 0),
        Verb::Features => features::print().map(|()| 0),
        Verb::Spec(a) => features::spec(a).map(|()| 0),
    }
}

//! `mdrun exec CONTAINER CMD...`: run a command inside a running container (see
//! `container::exec`); its exit status passes through.

use crate::cli::ExecArgs;
use crate::config::GlobalConfig;
use crate::container::{self, ExecRequest};
use crate::error::Result;
use crate::paths::Paths;

pub fn run(args: &ExecArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    // This process forks into the container: it must run from a binary the container
    // cannot reach for writing (sealed_exe). Re-executes once, before the work that the
    // copy would do again.
    crate::sealed_exe::reexec(&paths.exe_lower())?;
    let req = ExecRequest {
        command: &args.command,
        env: &args.env,
        workdir: args.workdir.as_deref(),
        user: args.user.as_deref(),
        tty: args.tty,
        interactive: args.interactive,
    };
    container::exec(&paths, &args.container, &req)
}

//! `mdrun exec CONTAINER CMD...`: run a command inside a running container (its namespaces,
//! cgroup, root, environment and working directory); its exit status passes through.

use super::run_prepare::environment;
use crate::cli::ExecArgs;
use crate::config::GlobalConfig;
use crate::error::{Error, Result};
use crate::image::Store;
use crate::launch::{self, join, signals, Attach, ProcessPlan};
use crate::logs::Discard;
use crate::parse;
use crate::paths::Paths;
use crate::state;
use std::io::IsTerminal;
use std::path::PathBuf;

pub fn run(args: &ExecArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    // This process forks into the container: it must run from a binary the container
    // cannot reach for writing (sealed_exe). Re-executes once, before the work that the
    // copy would do again.
    crate::sealed_exe::reexec(&paths.exe_lower())?;
    let record = state::resolve(&paths, &args.container)?;
    let pid = match record.pid {
        Some(pid) if record.status == state::Status::Running && record.init_alive() => pid,
        _ => {
            return Err(Error::Usage(format!(
                "container {} is not running",
                record.name
            )))
        }
    };
    let spec = record.spec.clone().unwrap_or_default();
    let image = Store::new(paths.clone()).resolve(&record.image_id)?;
    let mut spec_env = spec.clone();
    for e in &args.env {
        if let Some(kv) = parse::env_pair(e)? {
            spec_env.env.push(kv);
        }
    }
    let tty = args.tty;
    spec_env.tty = tty;
    if tty && args.interactive && !std::io::stdin().is_terminal() {
        return Err(Error::Usage("the input device is not a TTY".into()));
    }
    let cwd = args
        .workdir
        .clone()
        .map(PathBuf::from)
        .or(spec.workdir.clone())
        .or(image.config.workdir.as_ref().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("/"));
    let plan = join::JoinPlan {
        target: pid,
        cgroups: crate::cgroups::dirs_of_process(pid),
        process: ProcessPlan {
            args: args.command.clone(),
            env: environment(&spec_env, &image, &record.hostname),
            cwd,
            hostname: record.hostname.clone(),
            tty,
            stdin_null: !args.interactive,
            capture_output: false,
            security: crate::security::plan(&spec.security),
        },
        user: args.user.clone(),
    };
    signals::block().map_err(launch::sys("block signals"))?;
    let running = join::spawn(&plan)?;
    let mut sink = Discard;
    let status = launch::supervise(
        running,
        Attach {
            stdin: args.interactive,
            stop_timeout: None,
            notify: None,
            echo: true,
            sink: &mut sink,
        },
    )
    .map_err(launch::sys("wait for exec"));
    signals::unblock();
    Ok(status?.code())
}

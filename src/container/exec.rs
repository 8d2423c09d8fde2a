//! Running a command inside a running container (its namespaces, cgroup, root, environment
//! and working directory); its exit status passes through. The process that calls this
//! forks into the container: it must run from a binary the container cannot reach for
//! writing (`sealed_exe::reexec`, the caller's first step).

use super::prepare::environment;
use crate::error::{Error, Result};
use crate::image::Store;
use crate::launch::{self, join, signals, Attach, ProcessPlan};
use crate::logs::Discard;
use crate::parse;
use crate::paths::Paths;
use crate::state;
use std::io::IsTerminal;
use std::path::PathBuf;

/// What to run, as `mdrun exec` is asked.
pub struct ExecRequest<'a> {
    pub command: &'a [String],
    /// `KEY=VALUE` (or `KEY`, taken from our environment), as `-e` gives them.
    pub env: &'a [String],
    pub workdir: Option<&'a str>,
    /// `uid[:gid]` or a name from the container's /etc/passwd.
    pub user: Option<&'a str>,
    pub tty: bool,
    pub interactive: bool,
}

/// Run `req` in the container `query` names; returns the command's exit code.
pub fn exec(paths: &Paths, query: &str, req: &ExecRequest<'_>) -> Result<i32> {
    let record = state::resolve(paths, query)?;
    let tty = req.tty;
    if tty && req.interactive && !std::io::stdin().is_terminal() {
        return Err(Error::Usage("the input device is not a TTY".into()));
    }
    let plan = join_plan(paths, &record, req, false)?;
    signals::block().map_err(launch::sys("block signals"))?;
    let running = join::spawn(&plan)?;
    let mut sink = Discard;
    let status = launch::supervise(
        running,
        Attach {
            stdin: req.interactive,
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

/// How `req` joins `record`'s running container (its output piped when `capture`).
pub(super) fn join_plan(
    paths: &Paths,
    record: &state::Record,
    req: &ExecRequest<'_>,
    capture: bool,
) -> Result<join::JoinPlan> {
    let pid = match record.pid {
        Some(pid) if record.status == state::Status::Running && record.init_alive() => pid,
        _ => {
            return Err(Error::Usage(format!(
                "container {} is not running",
                record.name
            )))
        }
    };
    if super::is_paused(record) {
        // Its process would join frozen cgroups and hang there.
        return Err(Error::Usage(format!(
            "container {} is paused, unpause it first",
            record.name
        )));
    }
    let spec = record.spec.clone().unwrap_or_default();
    let image = Store::new(paths.clone()).resolve(&record.image_id)?;
    let mut spec_env = spec.clone();
    for e in req.env {
        if let Some(kv) = parse::env_pair(e)? {
            spec_env.env.push(kv);
        }
    }
    spec_env.tty = req.tty;
    let cwd = req
        .workdir
        .map(PathBuf::from)
        .or(spec.workdir.clone())
        .or(image.config.workdir.as_ref().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("/"));
    Ok(join::JoinPlan {
        target: pid,
        cgroups: crate::cgroups::dirs_of_process(pid),
        process: ProcessPlan {
            args: req.command.to_vec(),
            env: environment(&spec_env, &image, &record.hostname),
            cwd,
            hostname: record.hostname.clone(),
            tty: req.tty,
            stdin_null: !req.interactive,
            capture_output: capture,
            security: crate::security::plan(
                &spec.security,
                crate::cgroups::devices::filter_available(),
            ),
        },
        user: req.user.map(String::from),
    })
}

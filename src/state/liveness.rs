//! Is a record telling the truth? A record says `running` from the moment the container
//! starts until its supervisor (the attached `mdrun run`, or a detached container's
//! supervisor) writes how it ended. If mdrun was SIGKILLed, or the host rebooted and
//! /run/mdrun was emptied, nobody writes that, and the record goes on saying `running`.
//!
//! So every command that acts on a container checks the processes behind the record:
//! - the init: its pid exists and `/proc/<pid>/cgroup` names the container's cgroup
//!   (`mdrun-<64-hex id>`) or its systemd scope (the record's `scope`), so a pid
//!   reused by an unrelated process is not mistaken for the container;
//! - the supervisor: its pid exists and that process started no later than the container
//!   did (a reused pid belongs to a process started afterwards).
//!
//! A record in state `created` names as its supervisor the mdrun that claimed it (`run`,
//! `start`, or a detached container's supervisor): alive, the container is being started
//! and nobody may remove it; dead, the claim is stale (mdrun was killed half-way).
//!
//! Both dead: the record is [`Liveness::Stale`], and the container library's lookup
//! (`container::lookup`) records it as exited with code 255, which is what docker shows for
//! containers that were running when its daemon or the host went down (the real exit
//! status is unknown).

use super::{Record, Status};
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// The record is right: exited, created, running with a live init, or being started
    /// by a live `run`.
    AsRecorded,
    /// Says running, the init is gone but its supervisor lives: the exit is being recorded.
    Ending,
    /// Says running (or being created) and nobody is alive behind it.
    Stale,
}

/// Slack for comparing a process's start time with a recorded time: /proc/stat's boot
/// time is whole seconds, and `created` is taken a little after the process started.
const START_SLACK_SECS: f64 = 2.0;

impl Record {
    /// Check the processes behind the record. Costs one read of /proc/<pid>/cgroup for a
    /// running container, and reads of /proc/<supervisor>/stat only when the init is gone
    /// or the container is still being created.
    pub fn liveness(&self) -> Liveness {
        match self.status {
            Status::Exited => Liveness::AsRecorded,
            // A created record without a supervisor was left that way on purpose (a
            // container that never started); with one, it is a `run` on its way.
            Status::Created => match self.supervisor_pid {
                Some(_) if !self.supervisor_alive() => Liveness::Stale,
                _ => Liveness::AsRecorded,
            },
            Status::Running if self.init_alive() => Liveness::AsRecorded,
            Status::Running if self.supervisor_alive() => Liveness::Ending,
            Status::Running => Liveness::Stale,
        }
    }

    /// The recorded init exists and sits in this container's cgroup. A zombie still counts
    /// (its supervisor has yet to reap it).
    pub fn init_alive(&self) -> bool {
        let Some(pid) = self.pid.filter(|p| *p > 0) else {
            return false;
        };
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/cgroup")) else {
            return false;
        };
        cgroup_file_names(&text, &self.id, self.scope.as_deref())
    }

    /// The recorded supervisor exists and is the process that started this container:
    /// while it runs, the supervisor must have started no later than the container did
    /// (`started`; a pid reused later belongs to a younger process). While the container
    /// is being created, the supervisor is the mdrun that claimed it (`run`, `start`, or a
    /// detached container's supervisor), which started no later than its claim: `started`
    /// when `start` or a supervisor claimed it, else `created` (`run`).
    pub fn supervisor_alive(&self) -> bool {
        let Some(pid) = self.supervisor_pid.filter(|p| *p > 0) else {
            return false;
        };
        // Our own process is alive by definition (an attached `run` checking itself).
        if pid == std::process::id() as i32 {
            return true;
        }
        let Some(supervisor_start) = process_start_time(pid) else {
            return false;
        };
        match (self.status, self.started) {
            (Status::Running, Some(started)) => supervisor_start <= started + START_SLACK_SECS,
            (Status::Created, claimed) => {
                supervisor_start <= claimed.unwrap_or(self.created) + START_SLACK_SECS
            }
            _ => true,
        }
    }
}

/// Does a /proc/<pid>/cgroup text put the process in this container's cgroup: a path that
/// contains the full `id` (cgroupfs: `mdrun-<id>`), or in its systemd `scope` or below it
/// (`md-<short id>.scope`)?
fn cgroup_file_names(text: &str, id: &str, scope: Option<&str>) -> bool {
    let ours = |path: &str| {
        (!id.is_empty() && path.contains(id))
            || scope.is_some_and(|s| !s.is_empty() && path.split('/').any(|c| c == s))
    };
    text.lines()
        .any(|line| line.splitn(3, ':').nth(2).is_some_and(ours))
}

/// When the process started, in Unix seconds; None if it does not exist.
fn process_start_time(pid: i32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let ticks = start_ticks(&stat)?;
    Some(boot_time()? + ticks as f64 / clock_ticks())
}

/// Field 22 of /proc/<pid>/stat (`starttime`, clock ticks after boot). The command name
/// (field 2) may hold spaces and parentheses, so count from its closing parenthesis.
fn start_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After ")": field 3 (state) is the first; starttime is field 22.
    rest.split_whitespace().nth(22 - 3)?.parse().ok()
}

/// The `btime` line of /proc/stat: boot time in Unix seconds.
fn boot_time() -> Option<f64> {
    static BOOT: OnceLock<Option<f64>> = OnceLock::new();
    *BOOT.get_or_init(|| {
        let text = std::fs::read_to_string("/proc/stat").ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix("btime "))
            .and_then(|v| v.trim().parse().ok())
    })
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf reads a constant of the system and touches no memory of ours.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as f64
    } else {
        100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::record::tests::sample;

    #[test]
    fn the_cgroup_must_name_the_container() {
        let id = "ab".repeat(32);
        let ours =
            format!("12:memory:/user/mdrun-{id}\n11:pids:/user/mdrun-{id}\n1:name=systemd:/\n");
        assert!(cgroup_file_names(&ours, &id, None));
        let scope = "md-abababababab.scope";
        let in_scope = format!("0::/machine.slice/{scope}\n");
        assert!(cgroup_file_names(&in_scope, &id, Some(scope)));
        assert!(!cgroup_file_names(&in_scope, &id, None));
        let below = format!("4:memory:/machine.slice/{scope}/payload\n");
        assert!(cgroup_file_names(&below, &id, Some(scope)));
        let other = "12:memory:/user/mdrun-cd\n0::/machine.slice/md-abababababab.scope.x\n";
        assert!(!cgroup_file_names(other, &id, Some(scope)));
        assert!(!cgroup_file_names(other, "", None));
    }

    #[test]
    fn start_time_is_read_past_a_command_with_spaces_and_parens() {
        let stat =
            "1234 (a b) c) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10";
        assert_eq!(start_ticks(stat), Some(98765));
        assert_eq!(start_ticks("garbage"), None);
    }

    #[test]
    fn our_own_process_started_before_now() {
        let me = std::process::id() as i32;
        let t = process_start_time(me).expect("our own start time");
        assert!(t <= crate::state::now() + START_SLACK_SECS, "{t}");
        assert!(t > crate::state::now() - 24.0 * 3600.0 * 365.0, "{t}");
    }

    #[test]
    fn exited_records_are_taken_as_recorded() {
        let mut r = sample(&"1".repeat(64), "x");
        r.status = Status::Exited;
        assert_eq!(r.liveness(), Liveness::AsRecorded);
    }

    #[test]
    fn running_with_a_dead_init_and_a_dead_supervisor_is_stale() {
        let mut r = sample(&"2".repeat(64), "x");
        r.status = Status::Running;
        // Our own pid is alive but not in a cgroup named after this id.
        r.pid = Some(std::process::id() as i32);
        r.supervisor_pid = None;
        assert_eq!(r.liveness(), Liveness::Stale);
        // With its supervisor alive (our own process counts as alive), it is ending.
        r.supervisor_pid = Some(std::process::id() as i32);
        assert_eq!(r.liveness(), Liveness::Ending);
    }

    #[test]
    fn a_supervisor_started_after_the_container_is_a_reused_pid() {
        let mut r = sample(&"3".repeat(64), "x");
        r.status = Status::Running;
        r.created = 1000.0; // 1970: every live process started later
        r.started = Some(1000.0);
        r.supervisor_pid = Some(1);
        assert!(!r.supervisor_alive());
        assert_eq!(r.liveness(), Liveness::Stale);
        r.created = crate::state::now();
        r.started = Some(r.created);
        assert!(r.supervisor_alive(), "pid 1 started before now");
        assert_eq!(r.liveness(), Liveness::Ending);
    }

    #[test]
    fn a_created_record_is_stale_only_when_its_run_is_gone() {
        let mut r = sample(&"4".repeat(64), "x");
        r.status = Status::Created;
        r.supervisor_pid = None;
        assert_eq!(r.liveness(), Liveness::AsRecorded);
        r.supervisor_pid = Some(1);
        assert_eq!(r.liveness(), Liveness::AsRecorded);
        r.supervisor_pid = Some(dead_pid());
        assert_eq!(r.liveness(), Liveness::Stale);
        // A live pid that started after the claim was reused: nobody is starting it.
        r.supervisor_pid = Some(1);
        r.started = None;
        r.created = 1000.0;
        assert_eq!(r.liveness(), Liveness::Stale);
        // `start` claims with `started`, a restart's `created` being long past.
        r.started = Some(crate::state::now());
        assert_eq!(r.liveness(), Liveness::AsRecorded);
    }

    /// A pid that no process has: a child of ours, reaped.
    fn dead_pid() -> i32 {
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let pid = child.id() as i32;
        child.wait().expect("wait true");
        pid
    }
}

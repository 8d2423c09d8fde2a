//! podman 4.3 with `--runtime` mdrun-oci and `--cgroup-manager systemd`, run inside the
//! test systemd (tests/common/systemd.rs): podman passes cgroupsPath
//! `machine.slice:libpod:<id>` and `--systemd-cgroup`, so each container is the scope
//! `libpod-<id>.scope` in machine.slice, as `systemctl` shows. The store is private: its
//! root on the sandbox's scratch tmpfs (an overlay upperdir cannot live on the sandbox's
//! overlay root), runroot and tmpdir under the sandbox's own /run; `--network=none`,
//! `--events-backend=file`, mdrun-oci in containers.conf's `runtime_supports_json`.

use crate::common::{busybox_tarball, TestEnv};
use crate::sandbox::Sandbox;
use crate::util::OCI;
use std::process::{Output, Stdio};

const D: &str = "/run/mdoci-podman";
const ROOT: &str = "/var/lib/mdrun-sandbox/mdoci-podman";

/// Every podman call has 120 s, then SIGTERM, then SIGKILL 10 s later: an attached `podman
/// run` hands SIGTERM to the container (sig-proxy), whose PID 1 ignores it, and would go on.
fn podman(conf: &str) -> String {
    format!(
        "CONTAINERS_CONF={conf} timeout -k 10 120 podman --root={ROOT} --runroot={D}/run --tmpdir={D}/tmp \
         --storage-driver=overlay --cgroup-manager=systemd --events-backend=file --runtime={OCI}"
    )
}

/// The container's memory limit as it sees it: its own cgroup's (v1 or v2).
const MEM_PROBE: &str = "p=$(awk -F: '$2==\"memory\"{print $3}' /proc/self/cgroup); \
     if [ -n \"$p\" ]; then cat /sys/fs/cgroup/memory$p/memory.limit_in_bytes; \
     else cat /sys/fs/cgroup/memory.max; fi";

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `podman run -it` under `script`, inside the sandbox: a terminal on both ends. script's
/// stdin stays open until it ends (at EOF it would end the session before the output).
/// `timeout --foreground`: a plain `timeout` puts podman in a process group of its own, in
/// the background of script's terminal, where setting the terminal raw stops it (SIGTTOU)
/// with the container created and never started.
fn run_it(sb: &Sandbox, line: &str) -> Output {
    let line = line.replacen(
        "timeout -k 10 120 podman",
        "timeout --foreground -k 10 120 podman",
        1,
    );
    sb.output_within(
        sb.command(&["script", "-qec", &line, "/dev/null"])
            .stdin(Stdio::piped()),
    )
}

fn checks(sb: &Sandbox, pm: &str) -> Result<(), String> {
    let run = format!("{pm} run --network=none");
    // run --rm: the exit code and the output come back.
    let o = sb.sh(&format!(
        "{run} --rm localhost/mdoci-bb sh -c 'echo hi; exit 3'"
    ));
    if o.status.code() != Some(3) || String::from_utf8_lossy(&o.stdout) != "hi\n" {
        return Err(format!("run --rm: {}: {}", o.status, text(&o)));
    }

    // --memory, seen from inside: the limit of the container's own cgroup.
    let out = sb.ok(&format!(
        "{run} --rm --memory 64m localhost/mdoci-bb sh -c '{}'",
        MEM_PROBE.replace('\'', "'\\''")
    ));
    if out.trim() != "67108864" {
        return Err(format!("--memory 64m, seen inside: {out}"));
    }

    // -it: a terminal through --console-socket.
    let o = run_it(
        sb,
        &format!("{run} -it --rm localhost/mdoci-bb sh -c 'tty; exit 5'"),
    );
    if !text(&o).contains("/dev/pts/0") || o.status.code() != Some(5) {
        return Err(format!("-it: {}: {}", o.status, text(&o)));
    }

    // -d: the scope libpod-<id>.scope, active, in machine.slice, with the container's pid.
    let id = sb
        .ok(&format!(
            "{run} -d localhost/mdoci-bb sh -c 'echo started; trap \"exit 0\" TERM; while :; do sleep 0.1; done'"
        ))
        .trim()
        .to_string();
    let unit = format!("libpod-{id}.scope");
    let active = sb.unit_property(&unit, "ActiveState");
    let slice = sb.unit_property(&unit, "Slice");
    if active != "active" || slice != "machine.slice" {
        return Err(format!("{unit}: {active} in {slice}"));
    }
    let status = sb.ok("systemctl status --no-pager machine.slice | cat");
    if !status.contains(&unit) {
        return Err(format!("machine.slice's status has no {unit}:\n{status}"));
    }
    let pid = sb
        .ok(&format!("{pm} inspect -f '{{{{.State.Pid}}}}' {id}"))
        .trim()
        .to_string();
    let cg = sb.ok(&format!("cat /proc/{pid}/cgroup"));
    if !cg.contains(&format!("/machine.slice/{unit}")) {
        return Err(format!("pid {pid} is not in {unit}:\n{cg}"));
    }
    let main_pid = sb.unit_property(&unit, "ControlGroup");
    let procs = sb.ok(&format!(
        "cat /sys/fs/cgroup/systemd{main_pid}/cgroup.procs 2>/dev/null || cat /sys/fs/cgroup{main_pid}/cgroup.procs"
    ));
    if !procs.split_whitespace().any(|p| p == pid) {
        return Err(format!("{unit}'s cgroup {main_pid} lacks {pid}: {procs}"));
    }

    // exec: its exit code and output.
    let o = sb.sh(&format!("{pm} exec {id} sh -c 'echo exec-ok; exit 6'"));
    if o.status.code() != Some(6) || String::from_utf8_lossy(&o.stdout) != "exec-ok\n" {
        return Err(format!("exec: {}: {}", o.status, text(&o)));
    }
    // logs
    let logs = sb.ok(&format!("{pm} logs {id}"));
    if !logs.contains("started") {
        return Err(format!("logs: {logs}"));
    }

    // pause / unpause: the scope's processes frozen, then thawed.
    let freezer = format!(
        "f=$(awk -F: '$2==\"freezer\"{{print $3}}' /proc/{pid}/cgroup); \
         if [ -n \"$f\" ]; then cat /sys/fs/cgroup/freezer$f/freezer.state; \
         else cat /sys/fs/cgroup$(awk -F: '$1==0{{print $3}}' /proc/{pid}/cgroup)/cgroup.freeze; fi"
    );
    sb.ok(&format!("{pm} pause {id}"));
    let state = sb.ok(&format!("{pm} inspect -f '{{{{.State.Status}}}}' {id}"));
    let frozen = sb.ok(&freezer);
    if state.trim() != "paused" || !matches!(frozen.trim(), "FROZEN" | "1") {
        return Err(format!("after pause: {state} freezer {frozen} ({cg})"));
    }
    sb.ok(&format!("{pm} unpause {id}"));
    let state = sb.ok(&format!("{pm} inspect -f '{{{{.State.Status}}}}' {id}"));
    let thawed = sb.ok(&freezer);
    if state.trim() != "running" || !matches!(thawed.trim(), "THAWED" | "0") {
        return Err(format!("after unpause: {state} freezer {thawed}"));
    }

    // stop: the TERM trap's exit 0; the scope goes.
    sb.ok(&format!("{pm} stop -t 10 {id}"));
    let code = sb.ok(&format!("{pm} inspect -f '{{{{.State.ExitCode}}}}' {id}"));
    if code.trim() != "0" {
        return Err(format!("stop: exit code {code}"));
    }
    sb.ok(&format!("{pm} rm {id}"));
    let left = sb.ok(&format!("{pm} ps -aq"));
    if !left.trim().is_empty() {
        return Err(format!("after rm, podman still has {left}"));
    }
    Ok(())
}

#[test]
fn podman_in_systemd_makes_each_container_a_libpod_scope() {
    let env = TestEnv::bare();
    let conf = env.path("containers.conf");
    std::fs::write(
        &conf,
        "[engine]\nruntime_supports_json = [\"crun\", \"runc\", \"mdrun-oci\"]\n",
    )
    .unwrap();
    let pm = podman(&conf.display().to_string());
    let guard = crate::sandbox::shared();
    let sb = guard.as_ref().unwrap();
    sb.ok(&format!(
        "mkdir -p {D} {ROOT} && {pm} import {} localhost/mdoci-bb >/dev/null",
        busybox_tarball().display()
    ));
    let result = checks(sb, &pm);
    // Whatever happened: every container gone, podman's store and mounts removed.
    // A container left paused is thawed first: a frozen process cannot be killed.
    let cleanup = sb.sh(&format!(
        "for f in $(grep -l FROZEN -r /sys/fs/cgroup/freezer --include freezer.state 2>/dev/null); do echo THAWED > $f; done; \
         for f in $(grep -l '^1' -r /sys/fs/cgroup --include cgroup.freeze 2>/dev/null); do echo 0 > $f; done; \
         {pm} rm -af -t 0 >/dev/null 2>&1; {pm} system reset -f >/dev/null 2>&1; \
         for m in $(awk '{{print $5}}' /proc/self/mountinfo | grep -E '^({D}|{ROOT})/' | sort -r); do umount -l $m; done; \
         rm -rf {D} {ROOT}"
    ));
    // podman's side, not mdrun-oci's, makes `libpod-conmon-<id>.scope` directories in the
    // v1 hierarchies systemd does not manage (they appear at `podman exec`: its conmon
    // joining the existing conmon scope, c/common's MoveUnderCgroup as it seems) and
    // leaves them: empty once conmon is gone, removed here.
    let conmon =
        sb.sh("find /sys/fs/cgroup -depth -type d -name 'libpod-conmon-*' -exec rmdir {} +");
    let left = sb.ok(
        "systemctl list-units --all --plain --no-legend 'libpod-*' | grep . ; \
         find /sys/fs/cgroup -name 'libpod-*' | grep . ; true",
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(cleanup.status.success(), "cleanup: {}", text(&cleanup));
    assert!(
        conmon.status.success(),
        "conmon's cgroups: {}",
        text(&conmon)
    );
    assert!(left.trim().is_empty(), "left behind: {left}");
    assert!(sb
        .sh(&format!("test ! -e {D} && test ! -e {ROOT}"))
        .status
        .success());
}

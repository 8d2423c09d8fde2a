//! `mdrun run` with the systemd cgroup manager, end to end through the binary, against a
//! private systemd (tests/common/systemd.rs). That systemd sees this host's hybrid cgroups,
//! so everything here runs mdrun's v1 backend inside delegated scopes.
//!
//! Also: the fallback to cgroupfs on the host itself, where there is no system bus.

use crate::common::{busybox_tarball, TestEnv};
use crate::sandbox;
use crate::sandbox::{Mdrun, Sandbox};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn unit_of(id: &str) -> String {
    format!("md-{}.scope", &id[..12])
}

/// Waits until `unit` is no longer loaded (a scope is collected once it ends).
fn wait_unit_gone(md: &Mdrun, unit: &str) {
    md.wait_for(30, &format!("{unit} to go away"), || {
        md.sb.unit_property(unit, "LoadState") == "not-found"
    });
}

#[test]
fn run_in_a_scope_named_after_the_id_with_its_limits_in_systemctl() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    // Attached and --rm, as a user would type it; it ends when `mdrun stop` says so.
    let mut child = sb
        .command(&[
            "sh",
            "-c",
            &md.line(
                "run --rm --cgroup-manager systemd --memory 100m --pids-limit 64 --cpus 0.5 \
                 busybox sh -c 'trap \"exit 0\" TERM; echo started; sleep 300 & wait'",
            ),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut first,
    )
    .unwrap();
    assert_eq!(first, "started\n");

    let ps = md.ok("ps --no-trunc -q");
    let id = ps.trim().to_string();
    assert_eq!(id.len(), 64, "one running container: {ps:?}");
    let short = md.ok("ps");
    assert!(short.contains(&id[..12]), "{short}");
    let unit = unit_of(&id);
    assert!(
        sb.ok(&format!("systemctl list-units --plain --no-legend {unit}"))
            .contains("active running"),
        "the scope `mdrun ps` names runs"
    );
    let status = sb.ok(&format!("systemctl status --no-pager {unit} || true"));
    assert!(status.contains("max: 100.0M"), "{status}");
    assert!(
        status.contains("sleep 300"),
        "its process is shown:\n{status}"
    );
    let show = |p: &str| sb.unit_property(&unit, p);
    assert_eq!(show("Delegate"), "yes");
    assert_eq!(show("Slice"), "machine.slice");
    assert_eq!(show("MemoryMax"), (100u64 << 20).to_string());
    assert_eq!(show("TasksMax"), "64");
    assert_eq!(show("CPUQuotaPerSecUSec"), "500ms");
    assert_eq!(show("CollectMode"), "inactive-or-failed");
    assert!(show("Description").contains(&id[..12]));
    // mdrun's own cgroup inside the scope carries the limits too (v1 backend).
    let cg = format!("/sys/fs/cgroup/memory/machine.slice/{unit}/mdrun-{id}");
    assert_eq!(
        sb.ok(&format!("cat {cg}/memory.limit_in_bytes")).trim(),
        (100u64 << 20).to_string()
    );
    assert_eq!(
        sb.ok(&format!(
            "cat /sys/fs/cgroup/pids/machine.slice/{unit}/mdrun-{id}/pids.max"
        ))
        .trim(),
        "64"
    );

    md.ok(&format!("stop {}", &id[..12]));
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    wait_unit_gone(&md, &unit);
    assert_eq!(md.ok("ps -aq").trim(), "", "--rm: no record left");
    assert_eq!(md.leftovers(), "");
}

#[test]
fn oom_kill_in_a_scope_exits_137_and_is_on_record() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    let out = md.sh(
        "run --name oom --cgroup-manager systemd --memory 20m --memory-swap 20m busybox \
         sh -c 'x=a; while :; do x=$x$x; done'",
    );
    assert_eq!(out.status.code(), Some(137), "{}", stderr(&out));
    let inspect: serde_json::Value = serde_json::from_str(&md.ok("inspect oom")).unwrap();
    let rec = &inspect[0];
    assert_eq!(rec["State"]["OOMKilled"], true, "{rec}");
    assert_eq!(rec["Mdrun"]["exit"]["Signaled"], 9, "{rec}");
    let unit = rec["Mdrun"]["scope"].as_str().unwrap().to_string();
    md.ok("rm oom");
    wait_unit_gone(&md, &unit);
}

/// `systemctl stop md-<id>.scope` ends the container as `mdrun stop` does: systemd sends
/// SIGTERM to every process of the scope, the command traps it and exits 143.
#[test]
fn systemctl_stop_ends_a_detached_container_like_mdrun_stop() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    let cmd = "busybox sh -c 'trap \"exit 143\" TERM; sleep 300 & wait'";
    let a = md.ok(&format!(
        "run -d --name by-systemctl --cgroup-manager systemd {cmd}"
    ));
    let b = md.ok(&format!(
        "run -d --name by-mdrun --cgroup-manager systemd {cmd}"
    ));
    let (a, b) = (a.trim(), b.trim());
    let (ua, ub) = (unit_of(a), unit_of(b));
    assert_eq!(sb.unit_property(&ua, "ActiveState"), "active");

    sb.ok(&format!("systemctl stop {ua}"));
    md.ok("stop by-mdrun");
    let status_of = |name: &str| {
        md.wait_for(30, &format!("{name} to be recorded as exited"), || {
            md.ok(&format!("inspect {name}"))
                .contains("\"Status\": \"exited\"")
        });
        let v: serde_json::Value =
            serde_json::from_str(&md.ok(&format!("inspect {name}"))).unwrap();
        v[0]["Mdrun"]["exit"].clone()
    };
    let by_systemctl = status_of("by-systemctl");
    assert_eq!(by_systemctl, serde_json::json!({"Exited": 143}));
    assert_eq!(
        status_of("by-mdrun"),
        by_systemctl,
        "the same as mdrun stop"
    );
    let ps = md.ok("ps -a");
    assert_eq!(ps.matches("Exited (143)").count(), 2, "{ps}");

    md.ok("rm by-systemctl by-mdrun");
    wait_unit_gone(&md, &ua);
    wait_unit_gone(&md, &ub);
    assert_eq!(md.ok("ps -aq").trim(), "");
    assert_eq!(md.leftovers(), "");
}

/// A slice that does not exist: exit 125, one line, and nothing left: no unit, no cgroup,
/// no mount, no process, no record.
#[test]
fn a_missing_slice_fails_with_125_and_leaves_nothing() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "slice = \"nosuch.slice\"");
    for detach in ["", "-d"] {
        let out = md.sh(&format!(
            "run --rm {detach} --name bad --cgroup-manager systemd busybox sleep 4242"
        ));
        assert_failed_cleanly(&md, &out, "nosuch.slice");
    }
}

/// On this host PID 1 is not systemd and there is no bus: asking for systemd says so in
/// one line and runs the container with cgroupfs.
#[test]
fn asking_for_systemd_without_it_falls_back_to_cgroupfs_with_one_line() {
    let env = TestEnv::new();
    let out = env.run(&[
        "--cgroup-manager",
        "systemd",
        "busybox",
        "sh",
        "-c",
        "echo ran",
    ]);
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(out.stdout, "ran\n");
    assert_eq!(out.stderr.lines().count(), 1, "{out}");
    assert!(out.stderr.contains("systemd is not available"), "{out}");
    assert!(out.stderr.contains("cgroupfs"), "{out}");
    // Without the flag (auto) nothing is said.
    let out = env.run(&["busybox", "true"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out}");
    env.assert_clean();
}

#[allow(dead_code)]
fn _uses(_: &Sandbox) {}

/// What a failed `mdrun run` must leave: exit 125, one line on stderr naming `needle`,
/// nothing on stdout, and no unit, cgroup, mount, process (`sleep 4242`) or record.
#[track_caller]
fn assert_failed_cleanly(md: &Mdrun, out: &std::process::Output, needle: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "{needle:?} in: {err}");
    assert_eq!(stdout(out), "");
    assert_eq!(md.leftovers(), "");
    assert_eq!(md.ok("ps -aq").trim(), "");
    let sb = md.sb;
    assert_eq!(
        sb.ok(&format!(
            "grep -c ' {}' /proc/self/mountinfo || true",
            md.dir
        ))
        .trim(),
        "0"
    );
    assert_eq!(sb.ok("pgrep -fc '[s]leep 4242' || true").trim(), "0");
    assert_eq!(
        sb.ok(&format!(
            "ls -A {0}/run; ls -A {0}/root/containers | grep -v '^\\.' || true",
            md.dir
        ))
        .trim(),
        ""
    );
}

/// Removes a slice unit file of a test's and what systemd keeps of it.
struct SliceCleanup<'a>(&'a Sandbox, &'static str);

impl Drop for SliceCleanup<'_> {
    fn drop(&mut self) {
        let _ = self.0.sh(&format!(
            "rm -f /etc/systemd/system/{0}; systemctl daemon-reload; \
             systemctl reset-failed {0} 'md-*' 2>/dev/null; true",
            self.1
        ));
    }
}

/// systemd refuses the start itself: the configured slice is masked, so the transaction
/// that would start the scope cannot be made (StartTransientUnit fails). Once with a slice
/// of our own (mdrun checks it first) and once with one of systemd's own, which mdrun does
/// not check (user.slice: machine.slice is the one the other tests use).
#[test]
fn systemd_refusing_the_scope_fails_with_125_and_leaves_nothing() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    for slice in ["mdmasked.slice", "user.slice"] {
        let _cleanup = SliceCleanup(sb, slice);
        sb.ok(&format!(
            "systemctl mask {slice} && systemctl daemon-reload"
        ));
        let md = Mdrun::new(sb, busybox_tarball(), &format!("slice = \"{slice}\""));
        for detach in ["", "-d"] {
            let out = md.sh(&format!(
                "run --rm {detach} --name bad --cgroup-manager systemd busybox sleep 4242"
            ));
            assert_failed_cleanly(&md, &out, "masked");
        }
    }
}

/// The start job ends, but not in "done": the slice's start fails (an Assert= that does
/// not hold), so the scope's job ends with "dependency".
#[test]
fn a_start_job_that_does_not_end_in_done_fails_with_125_and_leaves_nothing() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let slice = "mdassert.slice";
    let _cleanup = SliceCleanup(sb, slice);
    sb.ok(&format!(
        "printf '[Unit]\\nAssertPathExists=/nonexistent-mdrun\\n' > /etc/systemd/system/{slice} \
         && systemctl daemon-reload"
    ));
    let md = Mdrun::new(sb, busybox_tarball(), &format!("slice = \"{slice}\""));
    for detach in ["", "-d"] {
        let out = md.sh(&format!(
            "run --rm {detach} --name bad --cgroup-manager systemd busybox sleep 4242"
        ));
        assert_failed_cleanly(&md, &out, "\"dependency\"");
    }
}

/// A failed unit named md-<id>.scope, left over from an earlier run of the same container
/// (CollectMode=inactive would keep it), does not block the next start: mdrun resets it.
#[test]
fn a_leftover_failed_scope_of_the_same_name_does_not_block_a_start() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    let id = md
        .ok("run -d --name again --cgroup-manager systemd busybox true")
        .trim()
        .to_string();
    assert_eq!(md.ok("wait again").trim(), "0");
    let unit = unit_of(&id);
    wait_unit_gone(&md, &unit);
    // A scope of that name that times out (RuntimeMaxSec) ends "failed" and stays loaded.
    let _ = sb.sh(&format!(
        "systemd-run --quiet --scope --unit={unit} -p RuntimeMaxSec=1 sleep 30"
    ));
    assert_eq!(sb.unit_property(&unit, "ActiveState"), "failed");
    let out = md.sh("start -a again");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let v: serde_json::Value = serde_json::from_str(&md.ok("inspect again")).unwrap();
    assert_eq!(
        v[0]["Mdrun"]["exit"],
        serde_json::json!({"Exited": 0}),
        "{v}"
    );
    assert_eq!(v[0]["Mdrun"]["scope"], unit.as_str());
    md.ok("rm again");
    wait_unit_gone(&md, &unit);
    assert_eq!(md.leftovers(), "");
}

/// Starts the system bus again (and waits until systemd is back on it) when dropped.
struct BusBack<'a>(&'a Sandbox);

impl Drop for BusBack<'_> {
    fn drop(&mut self) {
        let _ = self
            .0
            .sh("systemctl start dbus.service; for i in $(seq 100); do \
             busctl --system status org.freedesktop.systemd1 >/dev/null 2>&1 && break; \
             sleep 0.1; done");
    }
}

/// The system bus goes away while mdrun starts a scope: mdrun stops itself (test stop point)
/// once connected and listening for JobRemoved, the bus daemon is killed, mdrun goes on: one
/// line, exit 125, and no unit, cgroup, mount, process or record is left. The bus is then
/// started again for the tests that share the sandbox.
#[test]
fn a_bus_that_disappears_mid_start_fails_with_125_and_leaves_nothing() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    let _back = BusBack(sb);
    let err = format!("{}/busgone.err", md.dir);
    let script = format!(
        "MDRUN_TEST_STOP_AT=systemd:subscribed {line} >/dev/null 2>{err} & pid=$!; \
         for i in $(seq 150); do grep -q '^State:.*T' /proc/$pid/status && break; sleep 0.1; done; \
         grep -q '^State:.*T' /proc/$pid/status || {{ echo mdrun-did-not-stop; kill -9 $pid; exit 1; }}; \
         systemctl kill --signal=KILL dbus.service; \
         for i in $(seq 50); do systemctl is-active -q dbus.service || break; sleep 0.1; done; \
         kill -CONT $pid; wait $pid; echo rc=$?",
        line = md.line("run --rm --name busgone --cgroup-manager systemd busybox sleep 4242"),
    );
    let out = sb.sh(&script);
    let text = stdout(&out);
    let msg = sb.ok(&format!("cat {err}"));
    assert!(
        text.contains("rc=125"),
        "{text}\n{}\nmdrun: {msg}",
        stderr(&out)
    );
    assert_eq!(msg.lines().count(), 1, "one line: {msg}");
    assert!(msg.contains("bus"), "says what went away: {msg}");
    assert_eq!(sb.ok("pgrep -fc '[s]leep 4242' || true").trim(), "0");
    assert_eq!(md.leftovers(), "");
    assert_eq!(md.ok("ps -aq").trim(), "");
    assert_eq!(
        sb.ok(&format!(
            "ls -A {0}/run; ls -A {0}/root/containers | grep -v '^\\.' || true",
            md.dir
        ))
        .trim(),
        ""
    );
}

/// JobRemoved signals that another client sends, for every job id the start might get and
/// with the result "failed", while mdrun waits on its scope's job: the start still succeeds.
/// mdrun listens for JobRemoved from systemd's name only and takes a job's end from the
/// sender that answered StartTransientUnit.
#[test]
fn forged_job_removed_signals_do_not_end_a_start() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    let run = md.line("run --rm --cgroup-manager systemd busybox echo started");
    let out = sb.ok(&format!(
        "job=$(busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
             org.freedesktop.systemd1.Manager StartUnit ss -- -.slice replace \
             | sed 's|.*/job/||; s|\"||g')
         MDRUN_TEST_STOP_AT=systemd:subscribed {run} >/tmp/forged.out 2>&1 </dev/null &
         p=$!; i=0
         until [ \"$(cut -d' ' -f3 /proc/$p/stat)\" = T ]; do
           i=$((i+1)); [ $i -lt 600 ] || {{ echo never stopped >&2; exit 1; }}; sleep 0.05
         done
         for n in $(seq $((job + 1)) $((job + 40))); do
           busctl emit /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager JobRemoved \
             uoss $n /org/freedesktop/systemd1/job/$n md-forged.scope failed
         done
         kill -CONT $p; wait $p; echo rc=$?; cat /tmp/forged.out"
    ));
    assert!(out.contains("rc=0"), "{out}");
    assert!(out.contains("started"), "{out}");
    assert_eq!(md.leftovers(), "");
}

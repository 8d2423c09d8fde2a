//! The lifecycle through runc's verbs.

use crate::common::TestEnv;
use crate::util::Oci;

#[test]
fn create_waits_for_start_then_kill_and_delete() {
    let env = TestEnv::bare();
    let o = Oci::new(&env, &["sh", "-c", "echo started > /tmp/mark; sleep 1000"]);
    let pidfile = env.path("pid");
    o.ok(&[
        "create",
        "--bundle",
        o.bundle.to_str().unwrap(),
        "--pid-file",
        pidfile.to_str().unwrap(),
        "c1",
    ]);
    assert_eq!(o.status("c1"), "created");
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The init waits in the container's namespaces and cgroup; the process has not run.
    assert!(
        !o.bundle.join("rootfs/tmp/mark").exists(),
        "the process ran before start"
    );
    let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(
        cg.contains(&format!("{}/c1", env.cgroup.path.trim_matches('/'))),
        "{cg}"
    );
    // delete of a created container without --force is an error, and changes nothing.
    let r = o.oci(&["delete", "c1"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(o.status("c1"), "created");
    // start of an unknown id
    let r = o.oci(&["start", "nope"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("does not exist"), "{}", r.stderr);
    o.ok(&["start", "c1"]);
    assert_eq!(o.status("c1"), "running");
    let r = o.oci(&["start", "c1"]);
    assert_eq!(r.code, 1, "start of a running container must fail");
    o.ok(&["kill", "c1", "KILL"]);
    o.wait_status("c1", "stopped");
    o.ok(&["delete", "c1"]);
    let r = o.oci(&["state", "c1"]);
    assert!(r.stderr.contains("does not exist"), "{}", r.stderr);
    assert!(!o.root.join("c1").exists());
}

#[test]
fn run_returns_the_exit_code_and_removes_the_container() {
    let env = TestEnv::bare();
    let o = Oci::new(
        &env,
        &["sh", "-c", "test \"$(hostname)\" = youki || exit 9; exit 7"],
    );
    let r = o.oci(&["run", "r1"]);
    assert_eq!(r.code, 7, "{}", r.stderr);
    assert!(!o.root.join("r1").exists());
}

#[test]
fn exec_pause_resume_and_ps() {
    let env = TestEnv::bare();
    let o = Oci::new(&env, &["sleep", "1000"]);
    o.ok(&["run", "--detach", "e1"]);
    assert_eq!(o.status("e1"), "running");
    let r = o.oci(&["exec", "e1", "sh", "-c", "echo in-$(hostname); exit 4"]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stdout.contains("in-youki"), "{}", r.stdout);
    let pids: Vec<i32> = serde_json::from_str(&o.ok(&["ps", "--format", "json", "e1"])).unwrap();
    assert_eq!(pids.len(), 1, "{pids:?}");
    let ev: serde_json::Value = serde_json::from_str(&o.ok(&["events", "--stats", "e1"])).unwrap();
    assert_eq!(ev["type"], "stats", "{ev}");
    assert_eq!(ev["data"]["pids"]["current"], 1, "{ev}");
    assert!(
        ev["data"]["memory"]["usage"]["usage"].as_u64().unwrap() > 0,
        "{ev}"
    );
    o.ok(&["pause", "e1"]);
    assert_eq!(o.status("e1"), "paused");
    o.ok(&["resume", "e1"]);
    assert_eq!(o.status("e1"), "running");
    o.ok(&["delete", "--force", "e1"]);
    assert!(!o.root.join("e1").exists());
}

#[test]
fn preserve_fds_keeps_those_descriptors_and_closes_the_rest() {
    let env = TestEnv::bare();
    let o = Oci::new(
        &env,
        &["sh", "-c", "ls /proc/self/fd | sort -n | tr '\\n' ' '"],
    );
    let line = format!(
        "exec 3</dev/null 4</dev/null; exec {} --root {} run --preserve-fds 1 p1",
        crate::util::OCI,
        o.root.display()
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &line])
        .current_dir(&o.bundle)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 0-2, the preserved 3, and ls's own directory descriptor: the next free one, 4, unless
    // the unpreserved 4 leaked into the container.
    let fds: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(fds, ["0", "1", "2", "3", "4"], "{text}");
}

/// A cgroup hierarchy hidden under another mount (bench/run hides cgroup2's
/// /sys/fs/cgroup/unified under a tmpfs in its namespace) is not a place for the cgroup:
/// mdrun-oci made plain directories and files there and could not remove them.
#[test]
fn a_hierarchy_hidden_by_another_mount_is_left_alone() {
    let env = TestEnv::bare();
    let o = Oci::new(&env, &["true"]);
    let hidden = crate::common::cgroup::hierarchies()
        .into_iter()
        .map(|h| h.mount)
        .find(|m| m != std::path::Path::new("/sys/fs/cgroup"))
        .expect("a hybrid host: a cgroup hierarchy below /sys/fs/cgroup to hide");
    let line = format!(
        "mount --make-rprivate / && mount -t tmpfs hide {} && exec {} --root {} run h1",
        hidden.display(),
        crate::util::OCI,
        o.root.display()
    );
    let out = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c", &line])
        .current_dir(&o.bundle)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!o.root.join("h1").exists());
}

/// runc's `delete --force` of an id that does not exist succeeds (containerd's shim runs it
/// after its own `delete` and warns when it fails); without --force it is an error.
#[test]
fn delete_force_of_a_missing_container_succeeds() {
    let env = TestEnv::bare();
    let o = Oci::new(&env, &["true"]);
    let r = o.oci(&["delete", "nope"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("does not exist"), "{}", r.stderr);
    o.ok(&["delete", "--force", "nope"]);
    // A directory without a state file (an aborted create) goes too.
    std::fs::create_dir_all(o.root.join("half")).unwrap();
    o.ok(&["delete", "--force", "half"]);
    assert!(!o.root.join("half").exists());
    // An id that is no id is still refused.
    let r = o.oci(&["delete", "--force", "../x"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
}

/// containerd's CRI names containers with 64 hex digits under `<Root>/k8s.io/`: the start
/// socket's path then exceeds a unix address's 107 bytes, and must still work.
#[test]
fn a_container_whose_socket_path_is_long_runs() {
    let env = TestEnv::bare();
    let mut o = Oci::new(&env, &["sh", "-c", "exit 4"]);
    o.root = env.path("runc-root-of-a-long-name/k8s.io");
    let id = "79b72845483ff352de73f2e3286c9431c037f518c353bfb83efd9e173bc90bea";
    assert!(o.root.join(id).join("start.sock").as_os_str().len() > 107);
    let bundle = o.bundle.to_str().unwrap().to_string();
    o.ok(&["create", "--bundle", &bundle, id]);
    assert_eq!(o.status(id), "created");
    o.ok(&["start", id]);
    o.wait_status(id, "stopped");
    o.ok(&["delete", id]);
    assert!(!o.root.join(id).exists());
}

/// A container without its own pid namespace (a pod's containers share the sandbox's)
/// leaves its init's children when the init exits: `kill --all ID KILL` still reaches them
/// (containerd's shim calls it after every such exit, and waits on its success).
#[test]
fn kill_all_reaches_what_a_stopped_init_left() {
    let env = TestEnv::bare();
    let o = Oci::new(&env, &["sh", "-c", "sleep 1000 & exit 0"]);
    o.edit(|c| {
        let ns = c["linux"]["namespaces"].as_array_mut().unwrap();
        ns.retain(|n| n["type"] != "pid");
    });
    o.ok(&["run", "--detach", "k1"]);
    o.wait_status("k1", "stopped");
    let procs = std::fs::read_to_string(env.cgroup_dir("pids").join("c1/cgroup.procs")).unwrap();
    let child: i32 = procs
        .trim()
        .parse()
        .expect("one process left in the cgroup");
    let r = o.oci(&["kill", "k1", "KILL"]);
    assert_eq!(r.code, 1, "kill without --all of a stopped container");
    o.ok(&["kill", "--all", "k1", "KILL"]);
    // The child was handed to this process (the subreaper): it is gone when reaped.
    let st = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(child), None).unwrap();
    assert_eq!(
        st,
        nix::sys::wait::WaitStatus::Signaled(
            nix::unistd::Pid::from_raw(child),
            nix::sys::signal::Signal::SIGKILL,
            false
        )
    );
    o.ok(&["delete", "k1"]);
}

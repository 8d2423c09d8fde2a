//! containerd 1.6 through its runc v2 shim with `ctr --runc-binary mdrun-oci`: a private
//! containerd (root, state and gRPC socket under the scenario's directory, CRI disabled),
//! the busybox image imported as an OCI archive, and containers in cgroups under the
//! scenario's parent. The 1.6 shim always makes its sockets in /run/containerd/s, so
//! scenarios that start a containerd take a lock and remove /run/containerd after
//! (../shared/docs/oci.md).

use crate::common::fixture::FileLock;
use crate::common::oci_layout::{layer, write_single, Comp, Image};
use crate::common::{busybox_tarball, TestEnv};
use crate::util::OCI;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

/// The namespace of `ctr` tasks; containerd's CRI uses `k8s.io`.
const NS: &str = "mdtest";

pub struct Containerd<'a> {
    pub env: &'a TestEnv,
    pub ns: &'static str,
    pub sock: PathBuf,
    /// mdrun-oci's --root as the shim is given it (`<runc-root>/<namespace>` is what it uses).
    pub runc_root: PathBuf,
    pub fifo_dir: PathBuf,
    pub log: PathBuf,
    child: Child,
    /// /run/containerd as it was (a host's own containerd may use it): what was there stays.
    run_existed: bool,
    shim_sockets_before: Vec<String>,
    _lock: FileLock,
}

impl<'a> Containerd<'a> {
    /// Starts containerd with `extra` appended to its config, and waits for its socket.
    pub fn start(env: &'a TestEnv, ns: &'static str, extra: &str) -> Containerd<'a> {
        let lock = FileLock::exclusive("containerd");
        let dir = env.path("containerd");
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("c.sock");
        let cfg = dir.join("config.toml");
        let d = dir.display();
        let disabled = if extra.contains("io.containerd.grpc.v1.cri") {
            ""
        } else {
            "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"
        };
        std::fs::write(
            &cfg,
            format!(
                "version = 2\nroot = \"{d}/root\"\nstate = \"{d}/state\"\n{disabled}\
                 [grpc]\n  address = \"{d}/c.sock\"\n[ttrpc]\n  address = \"{d}/c.sock.ttrpc\"\n\
                 [debug]\n  address = \"\"\n[metrics]\n  address = \"\"\n{extra}"
            ),
        )
        .unwrap();
        let run_existed = std::path::Path::new("/run/containerd").exists();
        let shim_sockets_before =
            crate::common::files::names(std::path::Path::new("/run/containerd/s"));
        let log = dir.join("containerd.log");
        let child = Command::new("containerd")
            .arg("--config")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("containerd is not installed (apt-get install containerd)");
        let c = Containerd {
            env,
            ns,
            sock,
            runc_root: dir.join("runc-root"),
            fifo_dir: dir.join("fifo"),
            log,
            child,
            run_existed,
            shim_sockets_before,
            _lock: lock,
        };
        std::fs::create_dir_all(&c.fifo_dir).unwrap();
        // Ready when it answers (its log says so too, but asking is the real test).
        for _ in 0..3000 {
            if c.sock.exists() && c.run(&["version"]).status.success() {
                return c;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        panic!(
            "containerd did not come up: {}",
            std::fs::read_to_string(&c.log).unwrap_or_default()
        );
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("timeout")
            .args(["-k", "10", "120"])
            .arg("ctr")
            .arg("-a")
            .arg(&self.sock)
            .args(["-n", self.ns])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("ctr is not installed (apt-get install containerd)")
    }

    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "ctr {args:?}: {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Imports the busybox rootfs as `localhost/mdoci-bb:latest` (an OCI archive).
    pub fn import_busybox(&self) {
        let tar = std::fs::read(busybox_tarball()).unwrap();
        self.import(&tar, json!({"Cmd": ["sh"]}), "localhost/mdoci-bb", "latest");
    }

    /// Imports one layer (`tar`) with this image config as `name:tag` (an OCI archive).
    pub fn import(&self, tar: &[u8], run: Value, name: &str, tag: &str) {
        let archive = oci_archive(self.env, tar, run, name, tag);
        self.ok(&[
            "images",
            "import",
            "--base-name",
            name,
            archive.to_str().unwrap(),
        ]);
    }

    /// The flags of `ctr run` that put a container on mdrun-oci, under our cgroup parent.
    pub fn run_flags(&self, id: &str) -> Vec<String> {
        vec![
            "--runc-binary".into(),
            OCI.into(),
            "--runc-root".into(),
            self.runc_root.display().to_string(),
            "--fifo-dir".into(),
            self.fifo_dir.display().to_string(),
            "--cgroup".into(),
            format!("/{}/{id}", self.env.cgroup.path.trim_matches('/')),
        ]
    }

    /// mdrun-oci's own view of a container (`state`), as the shim left it.
    pub fn oci_state(&self, id: &str) -> Value {
        let o = Command::new(OCI)
            .arg("--root")
            .arg(self.runc_root.join(self.ns))
            .args(["state", id])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    }
}

/// An OCI archive (for `ctr images import`) of one layer with this image config.
pub fn oci_archive(env: &TestEnv, tar: &[u8], run: Value, name: &str, tag: &str) -> PathBuf {
    let layout = env.path(&format!("layout-{}", name.replace('/', "-")));
    let image = Image {
        layers: vec![layer(tar, Comp::Gzip)],
        run,
        arch: "amd64",
    };
    write_single(&layout, &image, tag);
    let archive = layout.with_extension("tar");
    let st = Command::new("tar")
        .arg("-cf")
        .arg(&archive)
        .arg("-C")
        .arg(&layout)
        .arg(".")
        .status()
        .unwrap();
    assert!(st.success(), "tar of the OCI layout");
    archive
}

/// Processes whose command line mentions `needle` (the shims name our socket).
fn processes_mentioning(needle: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmd).contains(needle) {
            found.push(pid);
        }
    }
    found
}

impl Drop for Containerd<'_> {
    fn drop(&mut self) {
        // Containers a failed scenario left: mdrun-oci removes them and their cgroups.
        if let Ok(dir) = std::fs::read_dir(self.runc_root.join(self.ns)) {
            for e in dir.flatten() {
                let _ = Command::new(OCI)
                    .arg("--root")
                    .arg(self.runc_root.join(self.ns))
                    .args(["delete", "--force"])
                    .arg(e.file_name())
                    .output();
            }
        }
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
        // Shims left by a failed scenario: they name our socket on their command line.
        let sock = self.sock.display().to_string();
        for p in processes_mentioning(&sock) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(p),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        for m in crate::common::mounts::mounts_under(&self.env.dir) {
            let _ = crate::common::mounts::detach(&m.mount_point);
        }
        if self.run_existed {
            for n in crate::common::files::names(std::path::Path::new("/run/containerd/s")) {
                if !self.shim_sockets_before.contains(&n) {
                    let _ = std::fs::remove_file(std::path::Path::new("/run/containerd/s").join(n));
                }
            }
        } else {
            let _ = std::fs::remove_dir_all("/run/containerd");
        }
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn args<'s>(flags: &'s [String], rest: &[&'s str]) -> Vec<&'s str> {
    let mut v: Vec<&str> = flags.iter().map(String::as_str).collect();
    v.extend_from_slice(rest);
    v
}

fn task_status(c: &Containerd, id: &str) -> String {
    let out = c.ok(&["task", "ls"]);
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(id))
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap_or_else(|| panic!("task {id} not in {out}"))
        .to_string()
}

/// Until the task has stopped (the shim saw its init exit).
fn wait_stopped(c: &Containerd, id: &str) {
    for _ in 0..2000 {
        if task_status(c, id) == "STOPPED" {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("task {id} never stopped");
}

#[test]
fn containerd_runs_its_tasks_with_mdrun_oci() {
    let env = TestEnv::bare();
    let c = Containerd::start(&env, NS, "");
    c.import_busybox();
    let image = "localhost/mdoci-bb:latest";

    // run --rm: output and exit code come back through the shim.
    let flags = c.run_flags("c1");
    let mut a = vec!["run", "--rm"];
    a.extend(args(&flags, &[image, "c1", "sh", "-c", "echo hi; exit 3"]));
    let o = c.run(&a);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "hi\n");
    assert!(c.ok(&["containers", "ls", "-q"]).trim().is_empty());

    // -d: a running task in mdrun-oci's state, in its cgroup under our parent.
    let flags = c.run_flags("c2");
    let mut a = vec!["run", "-d"];
    a.extend(args(
        &flags,
        &[
            image,
            "c2",
            "sh",
            "-c",
            "trap 'exit 7' TERM; while :; do sleep 0.1; done",
        ],
    ));
    c.ok(&a);
    assert_eq!(task_status(&c, "c2"), "RUNNING");
    let st = c.oci_state("c2");
    assert_eq!(st["status"], "running", "{st}");
    let pid = st["pid"].as_i64().unwrap();
    let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(
        cg.contains(&format!("{}/c2", env.cgroup.path.trim_matches('/'))),
        "{cg}"
    );

    // task exec: output and exit code of a second process in the container.
    let fifo = c.fifo_dir.display().to_string();
    let o = c.run(&[
        "task",
        "exec",
        "--fifo-dir",
        &fifo,
        "--exec-id",
        "e1",
        "c2",
        "sh",
        "-c",
        "echo exec-ok; exit 6",
    ]);
    assert_eq!(o.status.code(), Some(6), "{}", text(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "exec-ok\n");

    // task ps: through `mdrun-oci ps --format json`, the init among the pids.
    let ps = c.ok(&["task", "ps", "c2"]);
    assert!(
        ps.lines()
            .skip(1)
            .any(|l| l.split_whitespace().next() == Some(&pid.to_string())),
        "init {pid} not in:\n{ps}"
    );

    // pause / resume: the task's status and mdrun-oci's agree.
    c.ok(&["task", "pause", "c2"]);
    assert_eq!(task_status(&c, "c2"), "PAUSED");
    assert_eq!(c.oci_state("c2")["status"], "paused");
    c.ok(&["task", "resume", "c2"]);
    assert_eq!(task_status(&c, "c2"), "RUNNING");
    assert_eq!(c.oci_state("c2")["status"], "running");

    // kill (SIGTERM): the trap's exit code is the task's (ctr reports it at delete).
    c.ok(&["task", "kill", "c2"]);
    wait_stopped(&c, "c2");
    // delete: the task, then the container; mdrun-oci keeps nothing.
    let o = c.run(&["task", "delete", "c2"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("exit code 7"), "{}", text(&o));
    c.ok(&["containers", "delete", "c2"]);
    assert!(c.ok(&["containers", "ls", "-q"]).trim().is_empty());
    let left: Vec<_> = std::fs::read_dir(c.runc_root.join(c.ns))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "mdrun-oci state left: {left:?}");

    // kill -s KILL of a running task, then delete.
    let flags = c.run_flags("c3");
    let mut a = vec!["run", "-d"];
    a.extend(args(&flags, &[image, "c3", "sleep", "1000"]));
    c.ok(&a);
    c.ok(&["task", "kill", "-s", "SIGKILL", "c3"]);
    wait_stopped(&c, "c3");
    let o = c.run(&["task", "delete", "c3"]);
    assert!(text(&o).contains("exit code 137"), "{}", text(&o));
    c.ok(&["containers", "delete", "c3"]);
}

//! podman 4.3 with `--runtime` set to mdrun-oci: a private store under the scenario's
//! directory, cgroupfs under the scenario's cgroup parent, `--network=none`, mdrun-oci in
//! containers.conf's `runtime_supports_json` (so podman passes --log-format=json), and
//! ulimits below the hard limits (no CAP_SYS_RESOURCE here: ../shared/docs/oci.md).

use crate::common::{busybox_tarball, TestEnv};
use crate::util::OCI;
use std::process::{Command, Output};

struct Podman<'a> {
    env: &'a TestEnv,
    global: Vec<String>,
    conf: std::path::PathBuf,
    run_dir: String,
}

const RUN_FLAGS: &[&str] = &[
    "--network=none",
    "--ulimit",
    "nofile=1024:1024",
    "--ulimit",
    "nproc=1024:1024",
];

impl<'a> Podman<'a> {
    fn new(env: &'a TestEnv) -> Podman<'a> {
        let conf = env.path("containers.conf");
        std::fs::write(
            &conf,
            "[engine]\nruntime_supports_json = [\"crun\", \"runc\", \"mdrun-oci\"]\n",
        )
        .unwrap();
        let tag = env.dir.file_name().unwrap().to_string_lossy().into_owned();
        let run_dir = format!("/run/{tag}-podman");
        let global = vec![
            format!("--root={}", env.path("podman").display()),
            format!("--runroot={run_dir}/run"),
            format!("--tmpdir={run_dir}/tmp"),
            "--storage-driver=overlay".into(),
            "--cgroup-manager=cgroupfs".into(),
            "--events-backend=file".into(),
            format!("--runtime={OCI}"),
        ];
        Podman {
            env,
            global,
            conf,
            run_dir,
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("timeout");
        c.args(["-k", "10", "120"])
            .arg("podman")
            .args(&self.global)
            .args(args)
            .env("CONTAINERS_CONF", &self.conf)
            .current_dir(&self.env.dir);
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args)
            .output()
            .expect("podman is not installed (apt-get install podman)")
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "podman {args:?}: {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// `podman run` with the flags every container here gets, under our cgroup parent.
    fn run_args<'b>(&self, parent: &'b str, rest: &[&'b str]) -> Vec<&'b str>
    where
        'a: 'b,
    {
        let mut v = vec!["run", "--cgroup-parent", parent];
        v.extend_from_slice(RUN_FLAGS);
        v.extend_from_slice(rest);
        v
    }
}

impl Drop for Podman<'_> {
    fn drop(&mut self) {
        let _ = self.run(&["rm", "-af", "-t", "0"]);
        let _ = self.run(&["system", "reset", "-f"]);
        let _ = std::fs::remove_dir_all(&self.run_dir);
        // mdrun-oci's default --root, where podman has it keep its state (podman's exit
        // command for a container, run by conmon, passes no --runtime-flag): empty by now.
        let _ = std::fs::remove_dir("/run/mdrun-oci");
        // podman's conmon cgroup under our parent (cgroupfs): empty once conmon is gone.
        for h in crate::common::cgroup::hierarchies() {
            let dir = h.dir(&format!(
                "{}/conmon",
                self.env.cgroup.path.trim_matches('/')
            ));
            let _ = std::fs::remove_dir(dir);
        }
    }
}

#[test]
fn podman_runs_its_containers_with_mdrun_oci() {
    let env = TestEnv::bare();
    let p = Podman::new(&env);
    p.ok(&[
        "import",
        busybox_tarball().to_str().unwrap(),
        "localhost/mdoci-bb",
    ]);
    let parent = format!("/{}", env.cgroup.path.trim_matches('/'));

    // run --rm: the exit code comes back.
    let o = p.run(&p.run_args(
        &parent,
        &["--rm", "localhost/mdoci-bb", "sh", "-c", "echo hi; exit 3"],
    ));
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout), "hi\n");

    // --memory, seen from inside: the limit of the container's own cgroup.
    let probe = "p=$(awk -F: '$2==\"memory\"{print $3}' /proc/self/cgroup); \
                 if [ -n \"$p\" ]; then cat /sys/fs/cgroup/memory$p/memory.limit_in_bytes; \
                 else cat /sys/fs/cgroup/memory.max; fi";
    let out = p.ok(&p.run_args(
        &parent,
        &[
            "--rm",
            "--memory",
            "64m",
            "localhost/mdoci-bb",
            "sh",
            "-c",
            probe,
        ],
    ));
    assert_eq!(out.trim(), "67108864");

    // -it: a terminal through --console-socket.
    let line = format!(
        "CONTAINERS_CONF={} podman {} run -it --rm --cgroup-parent {parent} {} localhost/mdoci-bb sh -c 'tty; exit 5'",
        p.conf.display(),
        p.global.join(" "),
        RUN_FLAGS.join(" ")
    );
    // script's stdin stays open until it ends: at EOF on it, script would end the session
    // (and podman with it) before the container's output has come through.
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let keep_stdin = child.stdin.take();
    let mut stdout = Vec::new();
    std::io::Read::read_to_end(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    let mut stderr = Vec::new();
    std::io::Read::read_to_end(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    let status = child.wait().unwrap();
    drop(keep_stdin);
    let o = Output {
        status,
        stdout,
        stderr,
    };
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("/dev/pts/0"),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(o.status.code(), Some(5), "{text}");

    // -d, exec, logs, pause/unpause, stop, rm.
    let id = p.ok(&p.run_args(
        &parent,
        &[
            "-d",
            "localhost/mdoci-bb",
            "sh",
            "-c",
            "echo started; trap 'exit 0' TERM; while :; do sleep 0.1; done",
        ],
    ));
    let id = id.trim();
    let o = p.run(&["exec", id, "sh", "-c", "echo exec-ok; exit 6"]);
    assert_eq!(
        o.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout), "exec-ok\n");
    assert!(p.ok(&["logs", id]).contains("started"));
    p.ok(&["pause", id]);
    assert_eq!(
        p.ok(&["inspect", "-f", "{{.State.Status}}", id]).trim(),
        "paused"
    );
    p.ok(&["unpause", id]);
    assert_eq!(
        p.ok(&["inspect", "-f", "{{.State.Status}}", id]).trim(),
        "running"
    );
    p.ok(&["stop", "-t", "10", id]);
    assert_eq!(
        p.ok(&["inspect", "-f", "{{.State.ExitCode}}", id]).trim(),
        "0"
    );
    p.ok(&["rm", id]);
    assert!(p.ok(&["ps", "-aq"]).trim().is_empty());
}

//! A bundle in a scenario's directory, and `mdrun-oci` run with its --root there. Output
//! goes to files, not pipes: a created container's init keeps its stdio open.

use crate::common::{busybox_tarball, TestEnv};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Stdio};

pub const OCI: &str = env!("CARGO_BIN_EXE_mdrun-oci");

pub struct Res {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub struct Oci<'a> {
    pub env: &'a TestEnv,
    pub root: PathBuf,
    pub bundle: PathBuf,
    n: std::cell::Cell<u32>,
    /// The inits of containers made, reaped at the end: this test process is their
    /// subreaper, as conmon and containerd's shim are.
    inits: std::cell::RefCell<Vec<i32>>,
}

impl Drop for Oci<'_> {
    fn drop(&mut self) {
        for pid in self.inits.borrow().iter() {
            let pid = nix::unistd::Pid::from_raw(*pid);
            for _ in 0..2500 {
                match nix::sys::wait::waitpid(pid, Some(nix::sys::wait::WaitPidFlag::WNOHANG)) {
                    Ok(nix::sys::wait::WaitStatus::StillAlive) => {
                        std::thread::sleep(std::time::Duration::from_millis(2))
                    }
                    _ => break,
                }
            }
        }
    }
}

impl<'a> Oci<'a> {
    /// A bundle whose process runs `args`, in a cgroup under the scenario's parent.
    pub fn new(env: &'a TestEnv, args: &[&str]) -> Oci<'a> {
        let bundle = env.path("bundle");
        let rootfs = bundle.join("rootfs");
        std::fs::create_dir_all(&rootfs).unwrap();
        let st = Command::new("tar")
            .arg("-xf")
            .arg(busybox_tarball())
            .arg("-C")
            .arg(&rootfs)
            .status()
            .unwrap();
        assert!(st.success(), "untar busybox");
        // SAFETY: prctl(PR_SET_CHILD_SUBREAPER) sets a flag of this process.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
        let o = Oci {
            inits: Default::default(),
            env,
            root: env.path("oci-root"),
            bundle,
            n: Default::default(),
        };
        let r = o.run_in(&o.bundle.clone(), &["spec"]);
        assert_eq!(r.code, 0, "spec: {}", r.stderr);
        o.edit(|c| {
            c["process"]["terminal"] = false.into();
            c["process"]["args"] = args.iter().map(|s| Value::from(*s)).collect();
        });
        o.set_cgroup("c1");
        o
    }

    /// cgroupsPath = the scenario's cgroup parent / `leaf` (absolute).
    pub fn set_cgroup(&self, leaf: &str) {
        let path = format!("/{}/{leaf}", self.env.cgroup.path.trim_matches('/'));
        self.edit(|c| c["linux"]["cgroupsPath"] = path.clone().into());
    }

    pub fn config(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.bundle.join("config.json")).unwrap())
            .unwrap()
    }

    pub fn edit(&self, f: impl FnOnce(&mut Value)) {
        let mut c = self.config();
        f(&mut c);
        std::fs::write(self.bundle.join("config.json"), c.to_string()).unwrap();
    }

    fn run_in(&self, cwd: &PathBuf, args: &[&str]) -> Res {
        let i = self.n.get();
        self.n.set(i + 1);
        let out = self.env.path(&format!("oci-out-{i}"));
        let err = self.env.path(&format!("oci-err-{i}"));
        let mut child = Command::new(OCI)
            .arg("--root")
            .arg(&self.root)
            .args(args)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .unwrap();
        // A hung runtime fails this test with what it printed, not the whole area.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "mdrun-oci {args:?} still running after 120 s: killed it\n{}{}",
                    std::fs::read_to_string(&out).unwrap_or_default(),
                    std::fs::read_to_string(&err).unwrap_or_default()
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        Res {
            code: status.code().unwrap_or(-1),
            stdout: std::fs::read_to_string(&out).unwrap_or_default(),
            stderr: std::fs::read_to_string(&err).unwrap_or_default(),
        }
    }

    /// `mdrun-oci --root R ARGS` from the bundle's directory.
    pub fn oci(&self, args: &[&str]) -> Res {
        let r = self.run_in(&self.bundle.clone(), args);
        if r.code == 0 && matches!(args.first(), Some(&"create") | Some(&"run")) {
            let id = args.last().unwrap();
            if let Ok(text) = std::fs::read_to_string(self.root.join(id).join("state.json")) {
                let v: Value = serde_json::from_str(&text).unwrap();
                self.inits
                    .borrow_mut()
                    .push(v["pid"].as_i64().unwrap() as i32);
            }
        }
        r
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let r = self.oci(args);
        assert_eq!(r.code, 0, "mdrun-oci {args:?}: {}", r.stderr);
        r.stdout
    }

    pub fn status(&self, id: &str) -> String {
        let s: Value = serde_json::from_str(&self.ok(&["state", id])).unwrap();
        s["status"].as_str().unwrap().to_string()
    }

    /// Wait until the container's status is `want` (the process ends by itself).
    pub fn wait_status(&self, id: &str, want: &str) {
        for _ in 0..5000 {
            if self.status(id) == want {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        panic!("container {id} never became {want}");
    }
}

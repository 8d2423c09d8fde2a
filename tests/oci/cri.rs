//! containerd 1.6's CRI plugin (what kubelet talks to) with mdrun-oci as the runc runtime's
//! `BinaryName`, driven by crictl (built by ../shared/tools/oci-suites into its cache): a pod
//! sandbox from a pause image built here, a container that joins its namespaces, exec, logs,
//! stopp and rmp. Pods get their network from ../shared/tools/oci/cni-isolated (a veth pair
//! whose both ends stay in the pod: nothing on the host changes).

use crate::common::oci_layout::files_tar;
use crate::common::TestEnv;
use crate::containerd::Containerd;
use crate::suites::{crictl, shared_tool};
use crate::util::OCI;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The static pause (../shared/tools/oci/pause.c) as a one-file image.
pub fn pause_layer(env: &TestEnv) -> Vec<u8> {
    let out = env.path("pause");
    let st = Command::new("cc")
        .args(["-static", "-O2", "-o"])
        .arg(&out)
        .arg(shared_tool("oci/pause.c"))
        .status()
        .expect("cc is not installed");
    assert!(st.success(), "cc -static pause.c");
    files_tar(&[("pause", &std::fs::read(&out).unwrap(), 0o755)])
}

/// /run/netns: containerd's CRI pins each pod's network namespace there (and may make the
/// directory a shared bind mount of itself). After the scenario the pins it made (even by a
/// failed sandbox) go, and the directory too if it was not there before and is empty.
struct NetnsDir {
    was_mount: bool,
    existed: bool,
    before: Vec<String>,
}

fn is_mount(p: &str) -> bool {
    crate::common::mounts::mounts()
        .iter()
        .any(|m| m.mount_point == Path::new(p))
}

impl NetnsDir {
    fn note() -> NetnsDir {
        NetnsDir {
            was_mount: is_mount("/run/netns"),
            existed: Path::new("/run/netns").exists(),
            before: crate::common::files::names(Path::new("/run/netns")),
        }
    }
}

impl Drop for NetnsDir {
    fn drop(&mut self) {
        for n in crate::common::files::names(Path::new("/run/netns")) {
            if n.starts_with("cni-") && !self.before.contains(&n) {
                let pin = Path::new("/run/netns").join(&n);
                let _ = crate::common::mounts::detach(&pin);
                let _ = std::fs::remove_file(&pin);
            }
        }
        let empty = std::fs::read_dir("/run/netns")
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty {
            return;
        }
        if !self.was_mount && is_mount("/run/netns") {
            let _ = crate::common::mounts::detach(Path::new("/run/netns"));
        }
        if !self.existed {
            let _ = std::fs::remove_dir("/run/netns");
        }
    }
}

struct Crictl {
    bin: PathBuf,
    endpoint: String,
}

impl Crictl {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("timeout")
            .args(["-k", "10", "120"])
            .arg(&self.bin)
            .args(["--runtime-endpoint", &self.endpoint])
            .args(["--image-endpoint", &self.endpoint])
            .args(["--timeout", "20s"])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "crictl {args:?}: {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    }
}

fn ns_of(pid: i64, ns: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{ns}"))
        .unwrap()
        .display()
        .to_string()
}

fn cri_config(cni_bin: &Path, cni_conf: &Path, runc_root: &Path) -> String {
    format!(
        r#"[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pause:3.9"
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{}"
    conf_dir = "{}"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    snapshotter = "overlayfs"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "{OCI}"
        Root = "{}"
        SystemdCgroup = false
"#,
        cni_bin.display(),
        cni_conf.display(),
        runc_root.display()
    )
}

#[test]
fn cri_pods_run_on_mdrun_oci() {
    let env = TestEnv::bare();
    let _netns = NetnsDir::note();
    let crictl_bin = crictl();
    let cni_bin = env.path("cni-bin");
    let cni_conf = env.path("cni-conf");
    std::fs::create_dir_all(&cni_bin).unwrap();
    std::fs::create_dir_all(&cni_conf).unwrap();
    std::fs::copy(
        shared_tool("oci/cni-isolated"),
        cni_bin.join("cni-isolated"),
    )
    .unwrap();
    // containerd's CRI adds the loopback plugin to every network (Debian's
    // containernetworking-plugins; it only sets lo up inside the pod).
    let loopback = Path::new("/usr/lib/cni/loopback");
    assert!(
        loopback.exists(),
        "apt-get install containernetworking-plugins (for /usr/lib/cni/loopback)"
    );
    std::os::unix::fs::symlink(loopback, cni_bin.join("loopback")).unwrap();
    std::fs::write(
        cni_conf.join("10-isolated.conflist"),
        json!({"cniVersion": "0.4.0", "name": "isolated", "plugins": [{"type": "cni-isolated"}]})
            .to_string(),
    )
    .unwrap();
    // Where Containerd's cleanup looks for containers a failed scenario left.
    let runc_root = env.path("containerd/runc-root");
    let c = Containerd::start(&env, "k8s.io", &cri_config(&cni_bin, &cni_conf, &runc_root));
    c.import(
        &pause_layer(&env),
        json!({"Entrypoint": ["/pause"]}),
        "localhost/pause",
        "3.9",
    );
    c.import_busybox();
    let cri = Crictl {
        bin: crictl_bin,
        endpoint: format!("unix://{}", c.sock.display()),
    };
    let oci_root = runc_root.join("k8s.io");
    let oci_state = |id: &str| -> Value {
        let o = Command::new(OCI)
            .arg("--root")
            .arg(&oci_root)
            .args(["state", id])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };

    // The pod sandbox: the pause container, in its cgroup under our parent.
    let parent = format!("/{}", env.cgroup.path.trim_matches('/'));
    let logs = env.path("pod-logs");
    std::fs::create_dir_all(&logs).unwrap();
    let pod_json = env.path("pod.json");
    std::fs::write(
        &pod_json,
        json!({
            "metadata": {"name": "p1", "namespace": "mdtest", "uid": "uid-p1", "attempt": 0},
            "hostname": "pod-one",
            "log_directory": logs,
            "linux": {"cgroup_parent": parent},
        })
        .to_string(),
    )
    .unwrap();
    let pod = cri.ok(&["runp", pod_json.to_str().unwrap()]);
    let inspect: Value = serde_json::from_str(&cri.ok(&["inspectp", &pod])).unwrap();
    assert_eq!(inspect["status"]["state"], "SANDBOX_READY", "{inspect}");
    let pause = oci_state(&pod);
    assert_eq!(pause["status"], "running", "{pause}");
    let pause_pid = pause["pid"].as_i64().unwrap();
    let cg = std::fs::read_to_string(format!("/proc/{pause_pid}/cgroup")).unwrap();
    assert!(cg.contains(&format!("{parent}/{pod}")), "{cg}");

    // A container that joins the pod's net, ipc and uts namespaces.
    let ctr_json = env.path("ctr.json");
    std::fs::write(
        &ctr_json,
        json!({
            "metadata": {"name": "c1"},
            "image": {"image": "localhost/mdoci-bb:latest"},
            "command": ["sh", "-c", "echo hello-from-pod $(hostname); exec sleep 1000"],
            "log_path": "c1.log",
            "linux": {},
        })
        .to_string(),
    )
    .unwrap();
    let cid = cri.ok(&[
        "create",
        &pod,
        ctr_json.to_str().unwrap(),
        pod_json.to_str().unwrap(),
    ]);
    cri.ok(&["start", &cid]);
    let st = oci_state(&cid);
    assert_eq!(st["status"], "running", "{st}");
    let pid = st["pid"].as_i64().unwrap();
    for ns in ["net", "ipc", "uts"] {
        assert_eq!(ns_of(pid, ns), ns_of(pause_pid, ns), "{ns} namespace");
    }
    assert_ne!(ns_of(pid, "mnt"), ns_of(pause_pid, "mnt"));

    // exec: ExecSync (kubelet's probes) gives output and exit code; the streaming exec
    // (kubectl exec) gives output.
    assert_eq!(
        cri.ok(&["exec", "--sync", &cid, "sh", "-c", "echo exec-ok"]),
        "exec-ok"
    );
    let o = cri.run(&["exec", "--sync", &cid, "sh", "-c", "exit 3"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("exited with 3"), "{err}");
    assert_eq!(
        cri.ok(&["exec", &cid, "sh", "-c", "echo streamed"]),
        "streamed"
    );
    // The pod's network (cni-isolated's eth0) inside.
    let addr = cri.ok(&["exec", &cid, "ip", "-4", "addr", "show", "eth0"]);
    assert!(addr.contains("10.88."), "{addr}");

    // logs: the container's stdout through the shim into the CRI log file.
    let mut seen = String::new();
    for _ in 0..2000 {
        seen = cri.ok(&["logs", &cid]);
        if seen.contains("hello-from-pod") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(seen, "hello-from-pod pod-one");

    // stopp and rmp: every container goes, and mdrun-oci keeps nothing.
    cri.ok(&["stopp", &pod]);
    let inspect: Value = serde_json::from_str(&cri.ok(&["inspectp", &pod])).unwrap();
    assert_eq!(inspect["status"]["state"], "SANDBOX_NOTREADY", "{inspect}");
    cri.ok(&["rmp", &pod]);
    assert!(cri.ok(&["pods", "-q"]).is_empty());
    assert!(cri.ok(&["ps", "-aq"]).is_empty());
    let left: Vec<_> = std::fs::read_dir(&oci_root)
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "mdrun-oci state left: {left:?}");
}

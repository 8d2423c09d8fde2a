//! containerd's CRI with `SystemdCgroup = true` inside the test systemd
//! (tests/common/systemd.rs): containerd and crictl run in the sandbox, the pod's cgroup
//! parent is a kubelet-style slice, and each container (the pause one too) is the scope
//! `cri-containerd-<id>.scope` in it, as `systemctl` shows. The slice is made first, as
//! kubelet does (mdrun-oci refuses a slice that does not exist). A host-network pod: no CNI;
//! the container shares the pod's pid namespace (the CRI's default) and joins it.

use crate::common::{busybox_tarball, TestEnv};
use crate::containerd::oci_archive;
use crate::cri::pause_layer;
use crate::suites::crictl;
use crate::util::OCI;
use serde_json::json;

#[test]
fn cri_containers_are_scopes_in_the_pods_slice() {
    let env = TestEnv::bare();
    let pause = oci_archive(
        &env,
        &pause_layer(&env),
        json!({"Entrypoint": ["/pause"]}),
        "localhost/pause",
        "3.9",
    );
    let bb = oci_archive(
        &env,
        &std::fs::read(busybox_tarball()).unwrap(),
        json!({"Cmd": ["sh"]}),
        "localhost/mdoci-bb",
        "latest",
    );
    // In the sandbox: its own /run; the scenario's directory is seen through its overlay.
    let d = "/run/mdoci-cri";
    let cfg = format!(
        r#"version = 2
root = "{d}/root"
state = "{d}/state"
[grpc]
  address = "{d}/c.sock"
[ttrpc]
  address = "{d}/c.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pause:3.9"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "{OCI}"
        Root = "{d}/rr"
        SystemdCgroup = true
"#
    );
    std::fs::write(env.path("cri-systemd.toml"), cfg).unwrap();
    let slice = "kubepods-besteffort-podmdoci1.slice";
    std::fs::write(
        env.path("pod.json"),
        json!({
            "metadata": {"name": "p1", "namespace": "mdtest", "uid": "mdoci1", "attempt": 0},
            "log_directory": format!("{d}/logs"),
            "linux": {"cgroup_parent": slice,
                      "security_context": {"namespace_options": {"network": 2}}},
        })
        .to_string(),
    )
    .unwrap();
    std::fs::write(
        env.path("ctr.json"),
        json!({
            "metadata": {"name": "c1"},
            "image": {"image": "localhost/mdoci-bb:latest"},
            "command": ["sleep", "1000"],
            "log_path": "c1.log",
        })
        .to_string(),
    )
    .unwrap();
    let e = env.dir.display();
    let crictl = format!(
        "{} --runtime-endpoint unix://{d}/c.sock --image-endpoint unix://{d}/c.sock --timeout 20s",
        crictl().display()
    );
    let guard = crate::sandbox::shared();
    let sb = guard.as_ref().unwrap();
    sb.ok(&format!(
        "mkdir -p {d}/logs; setsid containerd --config {e}/cri-systemd.toml >{d}/cd.log 2>&1 </dev/null & echo $! > {d}/pid; \
         i=0; until ctr -a {d}/c.sock version >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 1000 ] || exit 1; sleep 0.02; done; \
         ctr -a {d}/c.sock -n k8s.io images import --base-name localhost/pause {p} >/dev/null && \
         ctr -a {d}/c.sock -n k8s.io images import --base-name localhost/mdoci-bb {b} >/dev/null",
        p = pause.display(),
        b = bb.display()
    ));
    // kubelet makes each pod's slice (a transient unit) before it asks for the pod.
    sb.ok(&format!(
        "busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
         org.freedesktop.systemd1.Manager StartTransientUnit 'ssa(sv)a(sa(sv))' {slice} fail 0 0"
    ));
    let run = || -> Result<(), String> {
        let pod = sb
            .ok(&format!("{crictl} runp {e}/pod.json"))
            .trim()
            .to_string();
        let cid = sb
            .ok(&format!("{crictl} create {pod} {e}/ctr.json {e}/pod.json"))
            .trim()
            .to_string();
        let o = sb.sh(&format!("{crictl} start {cid}"));
        if !o.status.success() {
            return Err(format!("start: {}", String::from_utf8_lossy(&o.stderr)));
        }
        for id in [&pod, &cid] {
            let unit = format!("cri-containerd-{id}.scope");
            let active = sb.unit_property(&unit, "ActiveState");
            let in_slice = sb.unit_property(&unit, "Slice");
            if active != "active" || in_slice != slice {
                return Err(format!("{unit}: {active} in {in_slice}"));
            }
        }
        let status = sb.ok(&format!("systemctl status --no-pager {slice} | cat"));
        if !status.contains(&format!("cri-containerd-{cid}.scope")) {
            return Err(status);
        }
        assert_eq!(
            sb.ok(&format!("{crictl} exec --sync {cid} sh -c 'echo in-scope'"))
                .trim(),
            "in-scope"
        );
        sb.ok(&format!("{crictl} stopp {pod} && {crictl} rmp {pod}"));
        let left = sb.ok(
            "systemctl list-units --all --plain --no-legend 'cri-containerd-*' | grep . ; true",
        );
        if !left.trim().is_empty() {
            return Err(format!("left: {left}"));
        }
        Ok(())
    };
    let result = run().map_err(|e| {
        let log = sb.sh(&format!("grep -v 'level=info' {d}/cd.log | tail -20"));
        format!("{e}\n{}", String::from_utf8_lossy(&log.stdout))
    });
    let cleanup = sb.sh(&format!(
        "{crictl} rmp -af >/dev/null 2>&1; kill $(cat {d}/pid); while kill -0 $(cat {d}/pid) 2>/dev/null; do sleep 0.02; done; \
         for m in $(awk '{{print $5}}' /proc/self/mountinfo | grep '^{d}/' | sort -r); do umount -l $m; done; \
         rm -rf {d}; systemctl stop {slice} kubepods-besteffort.slice kubepods.slice 2>/dev/null; true"
    ));
    assert!(cleanup.status.success());
    if let Err(e) = result {
        panic!("{e}");
    }
}

//! Mount propagation as containerd's CRI asks for it for a Kubernetes `Bidirectional`
//! volume (critest's "mount with 'rshared' should support propagation from host to
//! container and vice versa", which runc passes): the volume bound `rbind,rshared` and
//! `rootfsPropagation: rshared`. A mount the container makes in the volume shows on the
//! host, one the host makes shows in the container, and nothing else of the container's
//! (its root, /proc, /dev) reaches the host's table. The "host" is a private mount
//! namespace of the test's (`unshare --mount --propagation slave`): nothing leaves it.

use crate::common::TestEnv;
use crate::util::{Oci, OCI};
use serde_json::json;

const SCRIPT: &str = r#"
set -e
oci() { "$OCI" --root "$ROOT" "$@"; }
mount --bind "$VOL" "$VOL"
mount --make-rshared "$VOL"
oci create --bundle "$BUNDLE" --pid-file "$OUT/prop.pid" prop </dev/null >"$OUT/create.out" 2>&1
oci start prop
# The container marks /vol/done (a plain file in the volume, seen either way) once it has
# mounted its tmpfs on /vol/in.
i=0
until [ -e "$VOL/done" ]; do
	i=$((i + 1)); [ $i -lt 3000 ] || { echo "the container never finished"; break; }
	sleep 0.01
done
echo "container-to-host: $(ls "$VOL/in" 2>&1)"
mkdir -p "$VOL/hostin"
mount -t tmpfs hostin "$VOL/hostin"
touch "$VOL/hostin/from-host"
echo "host-to-container: $(oci exec prop ls /vol/hostin 2>&1)"
echo "container-mounts-on-host: $(grep -c " $BUNDLE/rootfs" /proc/self/mountinfo || true)"
oci delete --force prop
echo "volume-still-mounted: $(mountpoint -q "$VOL" && echo yes || echo no)"
umount -R "$VOL"
"#;

#[test]
fn rshared_volume_propagates_both_ways_and_nothing_else_leaks() {
    let env = TestEnv::bare();
    let o = Oci::new(
        &env,
        &[
            "sh",
            "-c",
            "mount -t tmpfs inside /vol/in && touch /vol/in/from-container && touch /vol/done; exec sleep 1000",
        ],
    );
    let vol = env.path("vol");
    std::fs::create_dir_all(vol.join("in")).unwrap();
    o.edit(|c| {
        c["mounts"].as_array_mut().unwrap().push(json!({
            "destination": "/vol", "type": "bind", "source": vol,
            "options": ["rbind", "rshared", "rw"]
        }));
        c["linux"]["rootfsPropagation"] = "rshared".into();
        let caps = &mut c["process"]["capabilities"];
        for set in ["bounding", "effective", "permitted"] {
            caps[set]
                .as_array_mut()
                .unwrap()
                .push("CAP_SYS_ADMIN".into());
        }
    });
    let out = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "slave", "sh", "-c", SCRIPT])
        .env("OCI", OCI)
        .env("ROOT", &o.root)
        .env("BUNDLE", &o.bundle)
        .env("VOL", &vol)
        .env("OUT", env.path(""))
        .current_dir(&o.bundle)
        .output()
        .unwrap();
    // The init was reparented to us (the subreaper): reap it.
    if let Ok(pid) = std::fs::read_to_string(env.path("prop.pid")) {
        let pid = nix::unistd::Pid::from_raw(pid.trim().parse().unwrap());
        let _ = nix::sys::wait::waitpid(pid, None);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    let create = std::fs::read_to_string(env.path("create.out")).unwrap_or_default();
    assert!(out.status.success(), "{text}\n{err}\ncreate: {create}");
    assert!(
        text.contains("container-to-host: from-container"),
        "a mount made in the rshared volume inside did not reach the host:\n{text}"
    );
    assert!(
        text.contains("host-to-container: from-host"),
        "a mount made in the volume on the host did not reach the container:\n{text}"
    );
    assert!(
        text.contains("container-mounts-on-host: 0"),
        "the container's own mounts reached the host:\n{text}"
    );
    assert!(text.contains("volume-still-mounted: yes"), "{text}");
    assert!(!o.root.join("prop").exists());
}

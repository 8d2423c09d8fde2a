//! `create --no-pivot` and `--no-new-keyring`. --no-pivot is for a caller whose root
//! cannot be pivoted (a ramfs root; here: a chroot into a mount whose parent is shared,
//! which pivot_root refuses with EINVAL the same way): the root is moved onto `/` and
//! entered with chroot. The session keyring: a new one named `_ses.<id>` unless --no-new-keyring.

use crate::common::TestEnv;
use crate::util::{Oci, OCI};
use serde_json::json;
use std::process::Command;

/// `mdrun-oci ARGS` run by a shell chrooted into a tmpfs mounted on a shared mount, with
/// the host's directories it needs bound in, all in a private mount namespace.
fn in_unpivotable_root(env: &TestEnv, o: &Oci, args: &str) -> (i32, String) {
    let parent = env.path("jail-parent");
    let _ = std::fs::create_dir(&parent);
    let jail = parent.join("jail");
    let mut binds = format!(
        "mount -t tmpfs tmpfs {p} && mount --make-shared {p} && mkdir {j} && \
         mount -t tmpfs tmpfs {j} && ",
        p = parent.display(),
        j = jail.display()
    );
    // The system's directories, then wherever this checkout, its binaries and the test's
    // files are (a clone can be anywhere) unless one of those holds them already.
    let mut dirs: Vec<String> = [
        "/usr", "/lib", "/lib64", "/bin", "/proc", "/sys", "/dev", "/var", "/tmp",
    ]
    .map(String::from)
    .to_vec();
    let oci_dir = std::path::Path::new(OCI).parent().unwrap().to_path_buf();
    for extra in [
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
        oci_dir,
        env.dir.clone(),
    ] {
        let extra = extra.canonicalize().unwrap();
        if !dirs.iter().any(|d| extra.starts_with(d)) {
            dirs.push(extra.display().to_string());
        }
    }
    for d in &dirs {
        let d = d.as_str();
        if std::path::Path::new(d).exists() && !std::fs::symlink_metadata(d).unwrap().is_symlink() {
            binds.push_str(&format!(
                "mkdir -p {j}{d} && mount --rbind {d} {j}{d} && ",
                j = jail.display()
            ));
        } else if std::fs::symlink_metadata(d).is_ok() {
            binds.push_str(&format!(
                "ln -s $(readlink {d}) {j}{d} && ",
                j = jail.display()
            ));
        }
    }
    let script = format!(
        "{binds} exec chroot {j} {OCI} --root {r} {args}",
        j = jail.display(),
        r = o.root.display()
    );
    let out = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", &script])
        .current_dir(&o.bundle)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn no_pivot_runs_where_pivot_root_cannot() {
    let env = TestEnv::bare();
    let o = Oci::new(
        &env,
        &[
            "sh",
            "-c",
            "cat /etc/mdrun-marker; cut -d' ' -f5 /proc/self/mountinfo | sort | tr '\\n' ' '",
        ],
    );
    std::fs::create_dir_all(o.bundle.join("rootfs/etc")).unwrap();
    std::fs::write(
        o.bundle.join("rootfs/etc/mdrun-marker"),
        "the bundle's root\n",
    )
    .unwrap();
    let b = o.bundle.display();
    let (code, out) = in_unpivotable_root(&env, &o, &format!("run --bundle {b} p1"));
    assert_ne!(code, 0, "pivot_root in a chroot: {out}");
    assert!(out.contains("pivot_root"), "{out}");
    assert!(!o.root.join("p1").exists());
    let (code, out) = in_unpivotable_root(&env, &o, &format!("run --no-pivot --bundle {b} p2"));
    assert_eq!(code, 0, "{out}");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("the bundle's root"), "{out}");
    // The same mounts as a pivoted container's: nothing of the host's tree is left in view.
    let moved = lines.next().unwrap_or_default().to_string();
    let r = o.oci(&["run", "p3"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let pivoted = r.stdout.lines().nth(1).unwrap_or_default().to_string();
    assert_eq!(moved, pivoted);
    assert!(moved.starts_with("/ /dev "), "{moved}");
}

#[test]
fn a_container_gets_its_own_session_keyring_unless_no_new_keyring() {
    let env = TestEnv::bare();
    let o = Oci::new(&env, &["sh", "-c", "grep -c _ses.$KID /proc/keys; true"]);
    let masked = |c: &mut serde_json::Value| {
        let m: Vec<serde_json::Value> = c["linux"]["maskedPaths"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| *p != "/proc/keys")
            .cloned()
            .collect();
        c["linux"]["maskedPaths"] = json!(m);
    };
    let kid = |c: &mut serde_json::Value, id: &str| {
        let env = c["process"]["env"].as_array_mut().unwrap();
        env.retain(|e| !e.as_str().unwrap().starts_with("KID="));
        env.push(json!(format!("KID={id}")));
    };
    o.edit(|c| {
        masked(c);
        kid(c, "keys1");
    });
    let r = o.oci(&["run", "keys1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "1", "no _ses.keys1 keyring: {}", r.stdout);
    o.edit(|c| kid(c, "keys2"));
    let r = o.oci(&["run", "--no-new-keyring", "keys2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "0", "a keyring was made: {}", r.stdout);
}

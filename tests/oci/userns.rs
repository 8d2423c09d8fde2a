//! User namespaces: a new one with config.json's uidMappings/gidMappings (the container's
//! root is the host's 100000, the rootfs chowned to it as a bundle for a mapping is), and
//! one given by path (another container's), joined; `exec` joins it too.

use crate::common::TestEnv;
use crate::util::Oci;
use serde_json::json;
use std::process::Command;

const HOST_ID: u32 = 100000;

/// A bundle whose root belongs to the mapped root, with a new user namespace.
pub fn mapped<'a>(env: &'a TestEnv, args: &[&str]) -> Oci<'a> {
    let o = Oci::new(env, args);
    let st = Command::new("chown")
        .args(["-R", &format!("{HOST_ID}:{HOST_ID}")])
        .arg(o.bundle.join("rootfs"))
        .status()
        .unwrap();
    assert!(st.success());
    o.edit(|c| {
        c["root"]["readonly"] = false.into();
        c["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(json!({"type": "user"}));
        c["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": HOST_ID, "size": 65536}]);
        c["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": HOST_ID, "size": 65536}]);
    });
    o
}

fn pid_of(o: &Oci, id: &str) -> i64 {
    let s: serde_json::Value = serde_json::from_str(&o.ok(&["state", id])).unwrap();
    s["pid"].as_i64().unwrap()
}

fn status_line(pid: i64, key: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find(|l| l.starts_with(key))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_new_user_namespace_maps_the_containers_root() {
    let env = TestEnv::bare();
    let o = mapped(
        &env,
        &[
            "sh",
            "-c",
            "echo id=$(id -u):$(id -g); cat /proc/self/uid_map /proc/self/gid_map; \
             touch /made && stat -c owner=%u /made",
        ],
    );
    let r = o.oci(&["run", "u1"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let out = r.stdout;
    assert!(out.contains("id=0:0"), "{out}");
    let maps: Vec<Vec<&str>> = out
        .lines()
        .filter(|l| !l.contains('='))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(maps, vec![vec!["0", "100000", "65536"]; 2], "{out}");
    assert!(out.contains("owner=0"), "{out}");
    // Seen from the host: the container's root is uid 100000, its file too.
    let made = std::fs::metadata(o.bundle.join("rootfs/made")).unwrap();
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&made), HOST_ID);
}

#[test]
fn a_user_namespace_given_by_path_is_joined_and_exec_enters_it() {
    let env = TestEnv::bare();
    let o = mapped(&env, &["sleep", "1000"]);
    o.ok(&["create", "owner"]);
    o.ok(&["start", "owner"]);
    let pid = pid_of(&o, "owner");
    assert_eq!(
        status_line(pid, "Uid:"),
        format!("Uid:\t{HOST_ID}\t{HOST_ID}\t{HOST_ID}\t{HOST_ID}")
    );
    let theirs = std::fs::read_link(format!("/proc/{pid}/ns/user")).unwrap();
    assert_ne!(theirs, std::fs::read_link("/proc/self/ns/user").unwrap());
    // `exec` joins the container's user namespace: root in it, the host's 100000.
    let ex = o.ok(&[
        "exec",
        "owner",
        "sh",
        "-c",
        "id -u; readlink /proc/self/ns/user",
    ]);
    assert_eq!(
        ex.lines().collect::<Vec<_>>(),
        vec!["0", theirs.to_str().unwrap()],
        "{ex}"
    );

    // A second container in the first one's user namespace, with its other namespaces new.
    o.set_cgroup("c2");
    o.edit(|c| {
        for n in c["linux"]["namespaces"].as_array_mut().unwrap() {
            if n["type"] == "user" {
                n["path"] = format!("/proc/{pid}/ns/user").into();
            }
        }
        c["linux"].as_object_mut().unwrap().remove("uidMappings");
        c["linux"].as_object_mut().unwrap().remove("gidMappings");
        c["process"]["args"] = json!(["sh", "-c",
            "id -u; readlink /proc/self/ns/user; cat /proc/self/uid_map; readlink /proc/self/ns/net"]);
    });
    let r = o.oci(&["run", "joiner"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], "0", "{}", r.stdout);
    assert_eq!(lines[1], theirs.to_str().unwrap(), "{}", r.stdout);
    assert_eq!(
        lines[2].split_whitespace().collect::<Vec<_>>(),
        ["0", "100000", "65536"]
    );
    // Its network namespace is its own, not the first container's.
    let first_net = std::fs::read_link(format!("/proc/{pid}/ns/net")).unwrap();
    assert_ne!(lines[3], first_net.to_str().unwrap(), "{}", r.stdout);
    o.ok(&["delete", "--force", "owner"]);
}

#[test]
fn mappings_without_a_user_namespace_are_refused() {
    let env = TestEnv::bare();
    let o = Oci::new(&env, &["true"]);
    o.edit(|c| {
        c["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": HOST_ID, "size": 1}]);
    });
    let r = o.oci(&["create", "m1"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("no user namespace"), "{}", r.stderr);
    assert!(!o.root.join("m1").exists());
}

/// sysfs cannot be mounted in a new user namespace that does not own the network
/// namespace (here the host's, joined by path): the host's /sys is bound instead, as runc
/// does.
#[test]
fn sysfs_without_a_network_namespace_of_its_own_is_bound() {
    let env = TestEnv::bare();
    let o = mapped(
        &env,
        &[
            "sh",
            "-c",
            "grep ' /sys ' /proc/self/mounts; ls /sys/kernel",
        ],
    );
    o.edit(|c| {
        for n in c["linux"]["namespaces"].as_array_mut().unwrap() {
            if n["type"] == "network" {
                n["path"] = "/proc/self/ns/net".into();
            }
        }
    });
    let r = o.oci(&["run", "q1"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains(" /sys sysfs "), "{}", r.stdout);
    assert!(r.stdout.contains("mm"), "{}", r.stdout);
}

//! What config.json asks of the process and its cgroup, read back from inside and from
//! the kernel: seccomp in the spec's format, the user, capabilities, rlimits,
//! noNewPrivileges, a read-only root, masked paths, and memory and pids limits.

use crate::common::TestEnv;
use crate::util::Oci;
use serde_json::json;

#[test]
fn process_confinement_is_what_the_config_says() {
    let env = TestEnv::bare();
    let script = "\
        mkdir /tmp/x 2>/dev/null && echo mkdir-allowed || echo mkdir-denied; \
        echo uid=$(id -u) gid=$(id -g) groups=$(id -G); \
        grep -E '^(CapBnd|CapEff|NoNewPrivs)' /proc/self/status; \
        echo nofile=$(ulimit -n); \
        touch /rootfile 2>/dev/null && echo root-writable || echo root-readonly; \
        cat /proc/kcore 2>/dev/null | head -c 1 | wc -c";
    let o = Oci::new(&env, &["sh", "-c", script]);
    o.edit(|c| {
        c["process"]["user"] = json!({"uid": 1000, "gid": 1001, "additionalGids": [1002]});
        c["process"]["capabilities"] = json!({
            "bounding": ["CAP_KILL", "CAP_CHOWN"], "effective": ["CAP_KILL"],
            "permitted": ["CAP_KILL"], "inheritable": [], "ambient": []});
        c["process"]["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "hard": 321, "soft": 123}]);
        c["process"]["noNewPrivileges"] = true.into();
        c["root"]["readonly"] = true.into();
        c["mounts"].as_array_mut().unwrap().push(json!(
            {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["mode=1777"]}));
        c["linux"]["maskedPaths"] = json!(["/proc/kcore"]);
        // mkdir fails with EACCES through the filter (our uid could make it on the tmpfs).
        c["linux"]["seccomp"] = json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]});
    });
    let r = o.oci(&["run", "p1"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let out = r.stdout;
    assert!(out.contains("mkdir-denied"), "{out}");
    assert!(
        out.contains("uid=1000 gid=1001 groups=1001 1002")
            || out.contains("uid=1000 gid=1001 groups=1002"),
        "{out}"
    );
    // CAP_CHOWN (0) and CAP_KILL (5): 0x21 in the bounding set; the process is not root, so
    // only the ambient set would survive execve into its effective set: none.
    assert!(out.contains("CapBnd:\t0000000000000021"), "{out}");
    assert!(out.contains("CapEff:\t0000000000000000"), "{out}");
    assert!(out.contains("NoNewPrivs:\t1"), "{out}");
    assert!(out.contains("nofile=123"), "{out}");
    assert!(out.contains("root-readonly"), "{out}");
    assert!(out.trim_end().ends_with('0'), "/proc/kcore readable: {out}");
}

#[test]
fn cgroup_limits_are_written_before_the_process_runs() {
    let env = TestEnv::bare();
    let o = Oci::new(&env, &["sleep", "1000"]);
    o.edit(|c| {
        c["linux"]["resources"] = json!({"memory": {"limit": 50331648}, "pids": {"limit": 17},
            "cpu": {"quota": 20000, "period": 100000}});
    });
    o.ok(&["create", "l1"]);
    let h = crate::common::cgroup::hierarchies();
    let read = |ctl: &str, v1: &str, v2: &str| -> String {
        let hi = h
            .iter()
            .find(|x| x.has(ctl))
            .or_else(|| h.iter().find(|x| x.v2))
            .unwrap_or_else(|| panic!("no {ctl} hierarchy"));
        // Oci::new puts the container in <parent>/c1.
        let dir = hi.dir(&format!("{}/c1", env.cgroup.path.trim_matches('/')));
        let f = if hi.v2 { v2 } else { v1 };
        std::fs::read_to_string(dir.join(f))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.join(f).display()))
    };
    assert_eq!(
        read("memory", "memory.limit_in_bytes", "memory.max").trim(),
        "50331648"
    );
    assert_eq!(read("pids", "pids.max", "pids.max").trim(), "17");
    let cpu = read("cpu", "cpu.cfs_quota_us", "cpu.max");
    assert!(
        cpu.trim() == "20000" || cpu.trim() == "20000 100000",
        "{cpu}"
    );
    o.ok(&["delete", "--force", "l1"]);
}

/// A symlink in the bundle's root cannot send a mount target or a device node out of it:
/// they are resolved inside the root (the link's absolute target taken from the root).
#[test]
fn symlinks_in_the_root_do_not_lead_mounts_out_of_it() {
    let env = TestEnv::bare();
    let o = Oci::new(&env, &["true"]);
    let host = env.path("host-dir");
    std::fs::create_dir(&host).unwrap();
    std::os::unix::fs::symlink(&host, o.bundle.join("rootfs/escape")).unwrap();
    // The same path inside the root (a dangling link is refused outright).
    let inside = o
        .bundle
        .join("rootfs")
        .join(host.strip_prefix("/").unwrap());
    std::fs::create_dir_all(&inside).unwrap();
    let src = env.path("a-file");
    std::fs::write(&src, "x").unwrap();
    o.edit(|c| {
        c["mounts"].as_array_mut().unwrap().push(json!(
            {"destination": "/escape/newfile", "type": "bind", "source": src, "options": ["bind"]}));
        c["linux"]["devices"] = json!([{"path": "/escape/dev0", "type": "c", "major": 1, "minor": 3}]);
    });
    o.ok(&["run", "s1"]);
    assert!(
        !host.join("newfile").exists(),
        "a mount target was made on the host"
    );
    assert!(
        !host.join("dev0").exists(),
        "a device node was made on the host"
    );
    let inside = o
        .bundle
        .join("rootfs")
        .join(host.strip_prefix("/").unwrap());
    assert!(
        inside.join("newfile").exists(),
        "not made inside the root either"
    );
}

/// An unbindable bind mount (runtime-tools' mounts file) is in the container's mount table:
/// entering the root must not bind it recursively once more, which leaves such mounts out.
#[test]
fn unbindable_mounts_stay_in_the_container() {
    let env = TestEnv::bare();
    let o = Oci::new(&env, &["cat", "/proc/self/mountinfo"]);
    let src = env.path("etc-copy");
    std::fs::create_dir(&src).unwrap();
    o.edit(|c| {
        let mounts = c["mounts"].as_array_mut().unwrap();
        for (dest, opts) in [
            ("/mnt/u", ["bind", "unbindable"]),
            ("/mnt/ru", ["rbind", "runbindable"]),
        ] {
            mounts
                .push(json!({"destination": dest, "type": "bind", "source": src, "options": opts}));
        }
    });
    let r = o.oci(&["run", "u1"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    for dest in ["/mnt/u", "/mnt/ru"] {
        let line = r
            .stdout
            .lines()
            .find(|l| l.split_whitespace().nth(4) == Some(dest))
            .unwrap_or_else(|| panic!("{dest} is not mounted:\n{}", r.stdout));
        assert!(line.contains("unbindable"), "{line}");
    }
}

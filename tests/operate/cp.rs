//! `mdrun cp`: files both ways and as tar streams, and a container's symlinks never
//! followed out of its root.

use crate::common::stop_point::*;
use crate::common::*;
use crate::util::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;

fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            out.push(p.strip_prefix(dir).unwrap().display().to_string());
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn cp_copies_both_ways_and_as_tar_streams() {
    let env = TestEnv::new();
    let script = "mkdir -p /data/sub; echo hello > /data/sub/f; ln -s /etc /data/etc; \
                  touch /ready; sleep 1000";
    let id = detached(&env, "cp", &[], &["sh", "-c", script]);
    until("ready", || upper_file(&env, &id, "ready").exists());

    // Out: into an existing directory, and as a new name.
    let out = env.path("out");
    fs::create_dir(&out).unwrap();
    env.mdrun(&["cp", "cp:/data", out.to_str().unwrap()])
        .assert_ok();
    assert_eq!(
        files_under(&out),
        ["data", "data/etc", "data/sub", "data/sub/f"]
    );
    assert_eq!(
        fs::read_to_string(out.join("data/sub/f")).unwrap(),
        "hello\n"
    );
    // The symlink itself, not /etc behind it.
    assert_eq!(
        fs::read_link(out.join("data/etc")).unwrap().to_str(),
        Some("/etc")
    );
    let copy = env.path("out/copy.txt");
    env.mdrun(&["cp", "cp:/data/sub/f", copy.to_str().unwrap()])
        .assert_ok();
    assert_eq!(fs::read_to_string(&copy).unwrap(), "hello\n");

    // Out as a tar stream on stdout.
    let tar = env.mdrun(&["cp", "cp:/data/sub", "-"]);
    tar.assert_ok();
    let mut names: Vec<String> = tar::Archive::new(tar.stdout.as_bytes())
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["sub/", "sub/f"]);

    // In: a directory, a file under a new name, and a tar stream on stdin.
    fs::create_dir_all(env.path("in/deep")).unwrap();
    fs::write(env.path("in/deep/g"), "from the host\n").unwrap();
    env.mdrun(&["cp", env.path("in").to_str().unwrap(), "cp:/tmp"])
        .assert_ok();
    let got = env.mdrun(&["exec", "cp", "cat", "/tmp/in/deep/g"]);
    assert_eq!(got.stdout, "from the host\n", "{got}");
    env.mdrun(&["cp", env.path("in/deep/g").to_str().unwrap(), "cp:/renamed"])
        .assert_ok();
    assert_eq!(
        env.mdrun(&["exec", "cp", "cat", "/renamed"]).stdout,
        "from the host\n"
    );
    let mut stream = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(6);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_cksum();
    stream
        .append_data(&mut h, "streamed", &b"piped\n"[..])
        .unwrap();
    let bytes = stream.into_inner().unwrap();
    let out = env.cmd(&["cp", "-", "cp:/tmp"]).stdin(bytes).run();
    out.assert_ok();
    assert_eq!(
        env.mdrun(&["exec", "cp", "cat", "/tmp/streamed"]).stdout,
        "piped\n"
    );

    env.mdrun(&["cp", "cp:/nope", out_str(&env)])
        .assert_one_line_error(125);
    env.mdrun(&["cp", "cp:/data", "cp:/x"])
        .assert_one_line_error(125);
    env.mdrun(&["rm", "-f", "cp"]).assert_ok();
    env.mdrun(&["cp", "cp:/data", out_str(&env)])
        .assert_one_line_error(125);
    env.assert_clean();
}

fn out_str(env: &TestEnv) -> &'static str {
    Box::leak(
        env.path("out")
            .to_str()
            .unwrap()
            .to_string()
            .into_boxed_str(),
    )
}

#[test]
fn cp_never_follows_a_containers_symlink_out_of_its_root() {
    let env = TestEnv::new();
    // A host directory with a secret, and symlinks in the container that point at it by
    // its host path, and up through `..`.
    let host = env.path("hostside");
    fs::create_dir(&host).unwrap();
    fs::write(host.join("secret"), "host secret\n").unwrap();
    let script = format!(
        "ln -s {h} /evil; ln -s ../../../../../../../../{h} /up; ln -s {h}/secret /leak; \
         touch /ready; sleep 1000",
        h = host.display()
    );
    let id = detached(&env, "sym", &[], &["sh", "-c", &script]);
    until("ready", || upper_file(&env, &id, "ready").exists());
    let out = env.path("out");
    fs::create_dir(&out).unwrap();
    let o = out.to_str().unwrap();

    // Out: the paths resolve inside the container, where there is no such file.
    for src in ["sym:/evil/secret", "sym:/up/secret", "sym:/evil/."] {
        let r = env.mdrun(&["cp", src, o]);
        r.assert_one_line_error(125);
    }
    // The symlink itself is copied as a symlink, never what it points at.
    env.mdrun(&["cp", "sym:/leak", o]).assert_ok();
    assert!(fs::symlink_metadata(out.join("leak")).unwrap().is_symlink());
    assert!(!out.join("secret").exists());
    let r = env.mdrun(&["cp", "sym:/leak", "-"]);
    r.assert_ok();
    assert!(!r.stdout.contains("host secret"), "{r}");

    // In: nothing lands in the host directory.
    let file = env.path("payload");
    fs::write(&file, "payload\n").unwrap();
    for dest in ["sym:/evil/", "sym:/evil/dropped", "sym:/up/dropped"] {
        let r = env.mdrun(&["cp", file.to_str().unwrap(), dest]);
        assert_ne!(r.code, 0, "{r}");
    }
    let mut left = files_under(&host);
    left.sort();
    assert_eq!(left, ["secret"], "something was written through a symlink");

    env.mdrun(&["rm", "-f", "sym"]).assert_ok();
    env.assert_clean();
}

/// A fifo or device node that `cp` makes in a running container is the container's to
/// replace before its mode is set: with a symlink to a host file there, that file must
/// keep its mode (it used to take the entry's mode, setuid bits and all: a host user could
/// then write /etc/shadow or run a setuid copy of a shell).
#[test]
fn cp_in_sets_a_nodes_mode_on_the_node_never_through_a_symlink() {
    let env = TestEnv::new();
    let id = detached(
        &env,
        "node",
        &[],
        &["sh", "-c", "mkdir /drop; touch /ready; sleep 1000"],
    );
    until("ready", || upper_file(&env, &id, "ready").exists());
    let victim = env.path("victim");
    fs::write(&victim, "host file\n").unwrap();
    fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();

    let mut stream = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Fifo);
    h.set_size(0);
    h.set_mode(0o6777);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_cksum();
    stream.append_data(&mut h, "f", &b""[..]).unwrap();
    let bytes = stream.into_inner().unwrap();
    let (step, args) = ("unpack:node-made", ["cp", "-", "node:/drop"]);
    let cmd = env.cmd(&args).env(STOP_AT, step).stdin(bytes);
    let (running, pid) = spawn_stopped_cmd(cmd, step, &args);
    // The container swaps the fifo for a symlink to the host file, by its host path.
    let swap = format!("rm /drop/f && ln -s {} /drop/f", victim.display());
    env.mdrun(&["exec", "node", "sh", "-c", &swap]).assert_ok();
    signal(pid, libc::SIGCONT);
    let out = running.wait();
    let mode = fs::metadata(&victim).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o600, "the host file's mode was changed: {out}");
    // Refused, naming the entry.
    out.assert_one_line_error(125);
    assert!(out.stderr.contains("unpack \"f\": chmod"), "{out}");

    env.mdrun(&["rm", "-f", "node"]).assert_ok();
    env.assert_clean();
}

/// What root in a container makes must not give a host user root once copied out: a
/// setuid-root program keeps its content but not its setuid bit, and a device node (here
/// one of the host's loop devices, mode 0666: the container's device filter does not
/// apply on the host) is left out, with a warning.
#[test]
fn cp_out_drops_setuid_bits_and_device_nodes() {
    use std::os::unix::fs::FileTypeExt;
    let env = TestEnv::new();
    let script = "mkdir /d && cp /bin/busybox /d/sh && chmod 6755 /d/sh && \
                  mknod /d/disk b 7 0 && chmod 666 /d/disk && echo data > /d/plain && \
                  touch /ready; sleep 1000";
    let id = detached(&env, "suid", &[], &["sh", "-c", script]);
    until("ready", || upper_file(&env, &id, "ready").exists());
    assert!(fs::metadata(upper_file(&env, &id, "d/disk"))
        .unwrap()
        .file_type()
        .is_block_device());
    let out = env.path("out");
    fs::create_dir(&out).unwrap();
    let r = env.mdrun(&["cp", "suid:/d", out.to_str().unwrap()]);
    r.assert_ok();
    let sh = fs::metadata(out.join("d/sh")).unwrap();
    assert_eq!(sh.permissions().mode() & 0o7777, 0o755, "{r}");
    assert!(fs::symlink_metadata(out.join("d/disk")).is_err(), "{r}");
    assert!(r.stderr.contains("left out: d/disk"), "{r}");
    assert_eq!(fs::read_to_string(out.join("d/plain")).unwrap(), "data\n");
    // One file on its own, too.
    let one = env.path("one");
    env.mdrun(&["cp", "suid:/d/sh", one.to_str().unwrap()])
        .assert_ok();
    assert_eq!(
        fs::metadata(&one).unwrap().permissions().mode() & 0o7777,
        0o755
    );
    // As a tar stream it is what the container has: nothing is made on the host.
    let tar = env.mdrun(&["cp", "suid:/d/sh", "-"]);
    tar.assert_ok();
    let mut archive = tar::Archive::new(tar.stdout.as_bytes());
    let entry = archive.entries().unwrap().next().unwrap().unwrap();
    assert_eq!(entry.header().mode().unwrap() & 0o7777, 0o6755);

    env.mdrun(&["rm", "-f", "suid"]).assert_ok();
    env.assert_clean();
}

/// A running container may swap a file it is copying out for a device node (here
/// /dev/zero's numbers) or a fifo between the moment `cp` sees the file and the moment it
/// opens it: root on the host must never open the node (the host's disk, a watchdog, a
/// fifo that blocks forever). A file in a directory so replaced is left out; a file copied
/// on its own is refused.
#[test]
fn cp_out_never_opens_a_node_swapped_in_for_a_file() {
    let env = TestEnv::new();
    let script = "mkdir /d && echo hello > /d/f && echo hello > /g && touch /ready; sleep 1000";
    let id = detached(&env, "swap", &[], &["sh", "-c", script]);
    until("ready", || upper_file(&env, &id, "ready").exists());
    let out = env.path("out");
    fs::create_dir(&out).unwrap();
    let o = out.to_str().unwrap();
    for (src, file) in [("swap:/d", "/d/f"), ("swap:/g", "/g")] {
        let (step, args) = ("tar:file-statted", ["cp", src, o]);
        let cmd = env.cmd(&args).env(STOP_AT, step);
        let (running, pid) = spawn_stopped_cmd(cmd, step, &args);
        let swap = format!("rm {file} && mknod {file} c 1 5");
        env.mdrun(&["exec", "swap", "sh", "-c", &swap]).assert_ok();
        signal(pid, libc::SIGCONT);
        let r = running.wait();
        let copied = out.join(file.trim_start_matches('/'));
        let content = fs::read(&copied).ok();
        assert_ne!(content, Some(vec![0u8; 6]), "the host read the node: {r}");
        assert_eq!(content, None, "{r}");
        match file {
            "/d/f" => {
                r.assert_ok();
                assert!(out.join("d").is_dir(), "{r}");
            }
            _ => {
                r.assert_one_line_error(125);
                assert!(r.stderr.contains("changed while it was copied"), "{r}");
            }
        }
    }
    env.mdrun(&["rm", "-f", "swap"]).assert_ok();
    env.assert_clean();
}

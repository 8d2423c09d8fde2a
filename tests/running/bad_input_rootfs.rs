//! Bad input the container's init finds as it builds the root (an image whose /proc, /sys
//! or /dev is not a directory) or enters it (a working directory through a /proc magic
//! link): refused with one line on stderr, exit 125, and nothing left behind.

use crate::common::*;
use std::fs;

/// `out` is mdrun's one-line refusal saying `says`, and the scenario holds nothing more.
#[track_caller]
fn assert_refused(env: &TestEnv, out: &Out, says: &str) {
    out.assert_mdrun_error();
    assert!(
        out.stderr.contains(says),
        "the message does not say {says:?}:\n{out}"
    );
    let left = env.leftovers(true);
    assert!(
        left.is_empty(),
        "{:?} left behind:\n  {}",
        out.args,
        left.join("\n  ")
    );
}

/// The busybox image with `name` replaced by `kind`: "file", or a symlink to `kind`.
fn busybox_with(name: &str, kind: &str) -> Vec<u8> {
    let mut archive = tar::Archive::new(fs::File::open(busybox_tarball()).unwrap());
    let mut out = tar::Builder::new(Vec::new());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        if path.trim_end_matches('/') == name {
            continue;
        }
        let mut header = entry.header().clone();
        out.append_data(&mut header, &path, &mut entry).unwrap();
    }
    let mut h = tar::Header::new_ustar();
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_size(0);
    match kind {
        "file" => {
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(0o644);
            out.append_data(&mut h, name, std::io::empty()).unwrap();
        }
        target => {
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_mode(0o777);
            out.append_link(&mut h, name, target).unwrap();
        }
    }
    out.into_inner().unwrap()
}

#[test]
fn images_whose_proc_sys_or_dev_is_not_a_directory_are_refused() {
    let env = TestEnv::new();
    for (i, (name, kind, what)) in [
        ("proc", "etc", "a symlink"),
        ("proc", "/nowhere", "a symlink"),
        ("sys", "tmp", "a symlink"),
        ("dev", "tmp", "a symlink"),
        ("dev", "file", "a file"),
    ]
    .into_iter()
    .enumerate()
    {
        let image = format!("odd{i}");
        let tarball = env.path(&format!("{image}.tar"));
        fs::write(&tarball, busybox_with(name, kind)).unwrap();
        env.mdrun(&["import", tarball.to_str().unwrap(), &image])
            .assert_ok();
        let out = env.run(&[&image, "true"]);
        assert_refused(&env, &out, &format!("the image's /{name} is {what}"));
    }
}

#[test]
fn working_directories_through_proc_magic_links_are_refused() {
    let env = TestEnv::new();
    for dir in [
        "/proc/self/fd/7",
        "/proc/self/fd/3/x",
        "/proc/1/cwd",
        "/proc/self/root/etc",
        // A symlink on the way to one (/dev/fd -> /proc/self/fd).
        "/dev/fd/7",
    ] {
        let out = env.run(&["-w", dir, "busybox", "true"]);
        assert_refused(
            &env,
            &out,
            &format!("working directory {dir} leaves the container"),
        );
    }
    // `exec` enters its working directory the same way.
    let id = env
        .mdrun(&["run", "-d", "busybox", "sleep", "600"])
        .assert_ok()
        .out()
        .to_string();
    let out = env.mdrun(&["exec", "-w", "/proc/self/fd/7", &id, "true"]);
    out.assert_mdrun_error();
    assert!(
        out.stderr.contains("leaves the container"),
        "exec -w:\n{out}"
    );
    env.mdrun(&["rm", "-f", &id]).assert_ok();
    // Ordinary working directories still work, made when missing, `..` taken lexically.
    let out = env.run(&["-w", "/new/dir/../made", "busybox", "pwd"]);
    assert_eq!(out.assert_ok().out(), "/new/made");
    env.assert_clean();
}

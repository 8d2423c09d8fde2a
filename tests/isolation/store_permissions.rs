//! The store belongs to root alone. A setuid-root file of an image's layer, or one that root
//! in a container made in its write layer or in a named volume, must not be reachable by any
//! other host user: each is checked here as the real host user `nobody` (setpriv), against
//! a control file outside the store that the same user can open, list and execute.

use crate::common::*;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug)]
enum Access {
    /// open(2) for reading (`dd`, one block).
    Read,
    /// readdir (`ls`).
    List,
    /// execve(2) of the file itself, by a process of nobody's.
    Exec,
}

/// What the host user nobody (uid and gid 65534, no supplementary groups) gets from `access`
/// on `path`.
fn as_nobody(env: &TestEnv, access: Access, path: &Path) -> Out {
    let p = path.to_str().unwrap();
    let mut args: Vec<String> = ["--reuid=65534", "--regid=65534", "--clear-groups", "--"]
        .map(String::from)
        .into();
    match access {
        Access::Read => args.extend(
            [
                "dd",
                "of=/dev/null",
                "count=1",
                "status=none",
                &format!("if={p}"),
            ]
            .map(String::from),
        ),
        Access::List => args.extend(["ls", "-a", p].map(String::from)),
        // Through a shell already running as nobody: setpriv's own execve still holds
        // root's capabilities (it keeps them across setresuid) and would pass.
        Access::Exec => args.extend(["sh", "-c", "exec \"$0\"", p].map(String::from)),
    }
    Cmd::new("setpriv", &env.dir).args(&args).run()
}

#[track_caller]
fn assert_allowed(env: &TestEnv, access: Access, path: &Path) {
    let out = as_nobody(env, access, path);
    assert_eq!(
        out.code,
        0,
        "nobody could not {access:?} {}: the check proves nothing:\n{out}",
        path.display()
    );
}

/// Collects every path nobody could reach, so that one run names them all.
#[derive(Default)]
struct Reached(Vec<String>);

impl Reached {
    fn check(&mut self, env: &TestEnv, access: Access, path: &Path) {
        let out = as_nobody(env, access, path);
        if out.code == 0 || !out.stderr.contains("Permission denied") {
            self.0
                .push(format!("{access:?} {}:\n{out}", path.display()));
        }
    }

    #[track_caller]
    fn assert_none(self) {
        assert!(
            self.0.is_empty(),
            "the host user nobody reached {} path(s) in the store:\n\n{}",
            self.0.len(),
            self.0.join("\n\n")
        );
    }
}

/// A directory outside the store, beside it in the scenario's directory, with a copy of
/// busybox as `id`: what nobody can do there shows that the paths leading to the store are
/// open to it, so that a refusal inside the store comes from the store's own modes.
fn control(env: &TestEnv) -> PathBuf {
    fs::set_permissions(&env.dir, fs::Permissions::from_mode(0o755)).unwrap();
    let dir = env.path("control");
    fs::create_dir(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    let id = dir.join("id");
    fs::copy("/bin/busybox", &id).unwrap();
    fs::set_permissions(&id, fs::Permissions::from_mode(0o755)).unwrap();
    for access in [Access::Read, Access::List, Access::Exec] {
        let path = if matches!(access, Access::List) {
            &dir
        } else {
            &id
        };
        assert_allowed(env, access, path);
    }
    id
}

/// An image of one file, `suid/id`: busybox, setuid root.
fn suid_image(env: &TestEnv) {
    let busybox = fs::read("/bin/busybox").unwrap();
    let mut b = tar::Builder::new(Vec::new());
    let mut dir = tar::Header::new_ustar();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_mode(0o755);
    dir.set_uid(0);
    dir.set_gid(0);
    dir.set_mtime(0);
    dir.set_size(0);
    b.append_data(&mut dir, "suid/", std::io::empty()).unwrap();
    let mut file = tar::Header::new_ustar();
    file.set_mode(0o4755);
    file.set_uid(0);
    file.set_gid(0);
    file.set_mtime(0);
    file.set_size(busybox.len() as u64);
    b.append_data(&mut file, "suid/id", busybox.as_slice())
        .unwrap();
    let tarball = env.path("suid.tar");
    fs::write(&tarball, b.into_inner().unwrap()).unwrap();
    env.mdrun(&["import", tarball.to_str().unwrap(), "suid"])
        .assert_ok();
}

#[track_caller]
fn assert_setuid_root(path: &Path) {
    let meta = fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        meta.mode() & 0o4000 != 0 && meta.uid() == 0,
        "{} is not setuid root (mode {:o}, uid {}): the check proves nothing",
        path.display(),
        meta.mode(),
        meta.uid()
    );
}

/// Directories of the store that only root may enter.
fn private_dirs(env: &TestEnv) -> Vec<PathBuf> {
    let mut dirs = vec![env.root.clone(), env.run_root.clone()];
    dirs.extend(
        ["layers", "images", "tmp", "volumes", "containers"]
            .iter()
            .map(|d| env.root.join(d)),
    );
    dirs
}

#[track_caller]
fn assert_private(dir: &Path) {
    let mode = fs::metadata(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .mode();
    assert_eq!(
        mode & 0o077,
        0,
        "{} is mode {:o}: open to other host users",
        dir.display(),
        mode & 0o7777
    );
}

#[test]
fn host_users_cannot_reach_layers_write_layers_or_volumes() {
    let env = TestEnv::new();
    let id = control(&env);
    suid_image(&env);
    let layer = files::names(&env.root.join("layers"))
        .into_iter()
        .map(|l| env.root.join("layers").join(l))
        .find(|l| l.join("suid/id").exists())
        .expect("no layer holds suid/id");
    assert_setuid_root(&layer.join("suid/id"));

    // Root in a container makes a setuid copy of busybox and a device node, in its write
    // layer and in a named volume.
    let script = "cp /bin/busybox /tmp/id && chmod 4755 /tmp/id && mknod /tmp/null c 1 3 \
                  && chmod 666 /tmp/null && cp -p /tmp/id /data/id";
    env.mdrun(&[
        "run",
        "--name",
        "w",
        "-v",
        "data:/data",
        "busybox",
        "sh",
        "-c",
        script,
    ])
    .assert_ok();
    let cid = env.only_container();
    let upper = env.root.join("containers").join(&cid).join("upper");
    let volume = env.root.join("volumes/data");
    assert_setuid_root(&upper.join("tmp/id"));
    assert_setuid_root(&volume.join("id"));

    let mut reached = Reached::default();
    for (access, path) in [
        (Access::List, env.root.clone()),
        (Access::List, env.root.join("layers")),
        (Access::List, layer.join("suid")),
        (Access::Read, layer.join("suid/id")),
        (Access::Exec, layer.join("suid/id")),
        (Access::List, env.root.join("containers")),
        (Access::List, upper.join("tmp")),
        (Access::Read, upper.join("tmp/id")),
        (Access::Exec, upper.join("tmp/id")),
        (Access::Read, upper.join("tmp/null")),
        (Access::List, volume.clone()),
        (Access::Read, volume.join("id")),
        (Access::Exec, volume.join("id")),
    ] {
        reached.check(&env, access, &path);
    }
    reached.assert_none();
    for dir in private_dirs(&env) {
        assert_private(&dir);
    }
    assert_private(&env.root.join("containers").join(&cid));
    // The control is still reachable: nothing above changed what nobody may do outside.
    assert_allowed(&env, Access::Exec, &id);

    // A running container's runtime directory, too.
    let sid = env
        .mdrun(&["run", "-d", "--name", "s", "busybox", "sleep", "600"])
        .assert_ok()
        .out()
        .to_string();
    assert_private(&env.run_root.join(&sid));
    let mut reached = Reached::default();
    reached.check(&env, Access::List, &env.run_root);
    reached.check(&env, Access::List, &env.run_root.join(&sid));
    reached.assert_none();

    // Containers still work as any user inside, with the store closed on the host.
    let out = env.run(&[
        "--user",
        "65534",
        "-v",
        "data:/data",
        "busybox",
        "ls",
        "/data",
    ]);
    assert_eq!(out.assert_ok().out(), "id");
    env.mdrun(&["rm", "-f", "s", "w"]).assert_ok();
    env.assert_clean();
}

#[test]
fn an_open_store_of_an_older_mdrun_is_closed_by_the_next_command() {
    let env = TestEnv::new();
    control(&env);
    env.mdrun(&[
        "run",
        "--name",
        "old",
        "busybox",
        "sh",
        "-c",
        "cp /bin/busybox /tmp/id && chmod 4755 /tmp/id",
    ])
    .assert_ok();
    let cid = env.only_container();
    let upper_tmp = env.root.join("containers").join(&cid).join("upper/tmp");
    // The modes an older mdrun left: 0755 all the way down.
    fs::create_dir_all(env.root.join("volumes")).unwrap();
    fs::create_dir_all(env.root.join("tmp")).unwrap();
    fs::create_dir_all(&env.run_root).unwrap();
    let mut open = private_dirs(&env);
    open.push(env.root.join("containers").join(&cid));
    for dir in &open {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    }
    // Open indeed: nobody can list the write layer.
    assert_allowed(&env, Access::List, &upper_tmp);

    env.mdrun(&["images"]).assert_ok();

    for dir in private_dirs(&env) {
        assert_private(&dir);
    }
    let mut reached = Reached::default();
    reached.check(&env, Access::List, &upper_tmp);
    reached.check(&env, Access::Exec, &upper_tmp.join("id"));
    reached.check(&env, Access::List, &env.run_root);
    reached.assert_none();
    env.mdrun(&["rm", "old"]).assert_ok();
    env.assert_clean();
}

//! A full disk: the store on a small tmpfs (the busybox image fits, and about 1 MB more),
//! containers that fill it with their output (file log driver) or through their write layer.
//! Whatever fills it: the exit status is the command's own and on record, the log that cannot
//! be written is reported once, a `run` that finds no room fails cleanly, `rm -f` and
//! `prune` work while the disk is still full, and no temporary file is left.
//!
//! The journald driver on a full store: tests/systemd/logs_full.rs.

use crate::common::stop_point::{kill_stopped, signal, spawn_stopped, wait_gone};
use crate::common::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Room left in the store once the image is in it.
const FREE: u64 = 1 << 20;
/// What the chatty containers write: ten times the room.
const OUTPUT: usize = 10 << 20;

/// 10 MB of 64-byte lines on stdout.
fn chatty() -> String {
    format!("yes 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmno | head -c {OUTPUT}")
}

/// The store's root on a tmpfs of its own, sized to the image plus [`FREE`]; unmounted on
/// drop (after the scenario's own checks, which must run while it is mounted).
struct SmallStore {
    root: PathBuf,
}

impl SmallStore {
    fn mount(env: &TestEnv) -> SmallStore {
        fs::create_dir_all(&env.root).unwrap();
        sh(&format!(
            "mount -t tmpfs -o size=64m,mode=0755 mdrun-full-disk {}",
            env.root.display()
        ));
        let store = SmallStore {
            root: env.root.clone(),
        };
        let tarball = busybox_tarball();
        env.mdrun(&["import", tarball.to_str().unwrap(), "busybox"])
            .assert_ok();
        let st = statvfs(&store.root);
        let used = (st.blocks() - st.blocks_free()) * st.fragment_size();
        sh(&format!(
            "mount -o remount,size={} {}",
            used + FREE,
            store.root.display()
        ));
        assert!(store.free() >= FREE - 4096, "{} free", store.free());
        store
    }

    /// Bytes free.
    fn free(&self) -> u64 {
        let st = statvfs(&self.root);
        st.blocks_available() * st.fragment_size()
    }

    #[track_caller]
    fn assert_full(&self) {
        assert_eq!(self.free(), 0, "the store is not full");
    }
}

impl SmallStore {
    /// Nothing left of any container (see `TestEnv::assert_clean`), but this mount.
    #[track_caller]
    fn assert_clean(&self, env: &TestEnv) {
        let own = format!("mount {} ", self.root.display());
        let found: Vec<String> = env
            .leftovers(true)
            .into_iter()
            .filter(|l| !l.starts_with(&own))
            .collect();
        assert_eq!(found, Vec::<String>::new(), "mdrun left behind");
    }
}

impl Drop for SmallStore {
    fn drop(&mut self) {
        if let Err(e) = mounts::detach(&self.root) {
            eprintln!("umount {}: {e}", self.root.display());
        }
    }
}

fn statvfs(path: &Path) -> nix::sys::statvfs::Statvfs {
    nix::sys::statvfs::statvfs(path).unwrap_or_else(|e| panic!("statvfs {}: {e}", path.display()))
}

#[track_caller]
fn sh(script: &str) {
    let out = Command::new("sh").arg("-c").arg(script).output().unwrap();
    assert!(
        out.status.success(),
        "`{script}`: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `mdrun ps -a --format json`: the Status column of the container `name`.
fn ps_status(env: &TestEnv, name: &str) -> String {
    let out = env.mdrun(&["ps", "-a", "--format", "json"]);
    out.assert_ok();
    let v: serde_json::Value =
        serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out}"));
    v.as_array()
        .unwrap()
        .iter()
        .find(|e| e["Name"] == name)
        .unwrap_or_else(|| panic!("no {name} in ps -a: {out}"))["Status"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The container's record, as JSON.
fn record(env: &TestEnv, name: &str) -> serde_json::Value {
    for id in env.containers() {
        let path = env.root.join("containers").join(&id).join("container.json");
        let text = fs::read_to_string(&path).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: {e}: {text:?}", path.display()));
        if v["name"] == name {
            return v;
        }
    }
    panic!("no record named {name}");
}

/// It ended with `code`: so says its record, and so shows `ps -a`.
#[track_caller]
fn assert_exited(env: &TestEnv, name: &str, code: i32) {
    let r = record(env, name);
    assert_eq!(r["status"], "exited", "{name}: {r}");
    assert_eq!(
        r["exit"],
        serde_json::json!({ "Exited": code }),
        "{name}: {r}"
    );
    let status = ps_status(env, name);
    assert!(
        status.starts_with(&format!("Exited ({code})")),
        "{name}: ps -a says {status:?}"
    );
}

/// Files under the store whose name says they are temporary.
fn temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return found;
    };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.contains(".tmp") {
            found.push(path.clone());
        }
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            found.extend(temp_files(&path));
        }
    }
    found
}

#[track_caller]
fn assert_no_temp_files(env: &TestEnv) {
    assert_eq!(temp_files(&env.root), Vec::<PathBuf>::new());
}

/// The one line a log that ran out of room is reported with, and nothing else on stderr.
#[track_caller]
fn assert_one_log_warning(out: &Out) {
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines.len() == 1
            && lines[0].starts_with("mdrun: log ")
            && lines[0].contains("container.log: No space left on device")
            && lines[0].ends_with("further output is not logged"),
        "expected one warning about the log, got (exit {}):\n{}",
        out.code,
        out.stderr
    );
}

/// A container claimed while there is room, that fills the disk through its write layer
/// when told to ([`Filler::fill`]); kept, with its `cat` ending on "No space left on
/// device" (exit 1).
struct Filler<'a> {
    env: &'a TestEnv,
    name: &'static str,
    go: PathBuf,
}

impl<'a> Filler<'a> {
    fn start(env: &'a TestEnv, name: &'static str) -> Filler<'a> {
        let sig = env.path(&format!("sig-{name}"));
        fs::create_dir(&sig).unwrap();
        let volume = format!("{}:/sig", sig.display());
        env.mdrun(&[
            "run",
            "-d",
            "--name",
            name,
            "-v",
            &volume,
            "busybox",
            "sh",
            "-c",
            "until [ -e /sig/go ]; do sleep 0.05; done; cat /dev/zero > /fill 2>/dev/null",
        ])
        .assert_ok();
        Filler {
            env,
            name,
            go: sig.join("go"),
        }
    }

    fn fill(self, store: &SmallStore) {
        fs::write(&self.go, "").unwrap();
        let waited = self.env.mdrun(&["wait", self.name]);
        assert_eq!(waited.out(), "1", "{waited}");
        store.assert_full();
        assert_exited(self.env, self.name, 1);
    }
}

/// `ps -a` says nothing on stderr (no record it failed to repair).
#[track_caller]
fn assert_ps_quiet(env: &TestEnv) {
    let ps = env.mdrun(&["ps", "-a"]);
    ps.assert_ok();
    assert_eq!(ps.stderr, "", "{ps}");
}

#[test]
fn output_that_fills_the_disk_keeps_the_exit_code_and_prune_works() {
    let env = TestEnv::bare();
    let store = SmallStore::mount(&env);
    let run = |name: &str, detach: bool, script: &str| {
        let mut args = vec!["run", "--name", name, "--log-driver", "file"];
        args.extend(detach.then_some("-d"));
        args.extend(["busybox", "sh", "-c", script]);
        env.cmd(&args).timeout(Duration::from_secs(300)).run()
    };
    let filler = Filler::start(&env, "filler");
    // Room to give back later: 64 KiB in its write layer.
    run("spacer", false, "head -c 65536 /dev/zero > /spacer").assert_ok();

    // Attached: all of the output on our stdout, one warning, the command's own status.
    let big = format!(
        "if [ -e /again ]; then echo again; else {}; touch /again; fi",
        chatty()
    );
    let out = run("big", false, &big);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.len(), OUTPUT);
    assert_one_log_warning(&out);
    assert_exited(&env, "big", 0);
    assert_ps_quiet(&env);
    // The log holds whole records, as far as it got.
    let logs = env.mdrun(&["logs", "big"]);
    logs.assert_ok();
    assert!(logs.stdout.len() > FREE as usize / 4, "{}", logs.stderr);
    assert!(logs.stdout.len() < OUTPUT && out.stdout.starts_with(&logs.stdout));
    // Started again with room for its log: its records follow the last whole one.
    env.mdrun(&["rm", "spacer"]).assert_ok();
    let again = env.mdrun(&["start", "-a", "big"]);
    again.assert_ok();
    assert_eq!(
        (again.stdout.as_str(), again.stderr.as_str()),
        ("again\n", "")
    );
    let logs = env.mdrun(&["logs", "big"]);
    logs.assert_ok();
    assert!(logs.stdout.ends_with("mno\nagain\n"), "{}", logs.stderr);
    env.mdrun(&["rm", "big"]).assert_ok();

    // Detached: its supervisor records the end.
    run("bigd", true, &chatty()).assert_ok();
    let waited = env
        .cmd(&["wait", "bigd"])
        .timeout(Duration::from_secs(300))
        .run();
    assert_eq!(waited.out(), "0", "{waited}");
    assert_exited(&env, "bigd", 0);
    assert_no_temp_files(&env);

    filler.fill(&store);
    let pruned = env.mdrun(&["prune"]);
    pruned.assert_ok();
    assert_eq!(pruned.stderr, "", "{pruned}");
    assert_eq!(env.containers(), Vec::<String>::new());
    assert_no_temp_files(&env);
    store.assert_clean(&env);
}

#[test]
fn a_container_that_fills_its_write_layer_is_recorded_and_removable() {
    let env = TestEnv::bare();
    let store = SmallStore::mount(&env);
    env.mdrun(&["run", "-d", "--name", "sleeper", "busybox", "sleep", "1000"])
        .assert_ok();
    // Detached: fills the disk, and its supervisor records its status.
    env.mdrun(&[
        "run",
        "-d",
        "--name",
        "filld",
        "--log-driver",
        "file",
        "busybox",
        "sh",
        "-c",
        "cat /dev/zero > /fill 2>/dev/null; exit 4",
    ])
    .assert_ok();
    assert_eq!(env.mdrun(&["wait", "filld"]).out(), "4");
    store.assert_full();
    assert_exited(&env, "filld", 4);
    assert!(ps_status(&env, "sleeper").starts_with("Up"));
    assert_ps_quiet(&env);

    // No room to record a new container: a clean failure, nothing left of it.
    let before = env.leftovers(true);
    let late = env.mdrun(&["run", "--name", "late", "busybox", "true"]);
    late.assert_mdrun_error();
    assert!(late.stderr.contains("No space left on device"), "{late}");
    assert_eq!(env.leftovers(true), before);
    assert_no_temp_files(&env);

    // A running container removed on the full disk; its supervisor records the end first.
    store.assert_full();
    env.mdrun(&["rm", "-f", "sleeper"]).assert_ok();
    env.mdrun(&["rm", "-f", "filld"]).assert_ok();
    assert!(store.free() > FREE / 2);

    // Attached: what it prints reaches our stdout; its log has no room.
    let out = env.mdrun(&[
        "run",
        "--name",
        "fill",
        "--log-driver",
        "file",
        "busybox",
        "sh",
        "-c",
        "cat /dev/zero > /fill 2>/dev/null; echo written; exit 3",
    ]);
    assert_eq!(out.code, 3, "{out}");
    assert_eq!(out.stdout, "written\n");
    assert_one_log_warning(&out);
    store.assert_full();
    assert_exited(&env, "fill", 3);
    let pruned = env.mdrun(&["prune"]);
    pruned.assert_ok();
    assert_eq!(pruned.stderr, "", "{pruned}");
    assert_no_temp_files(&env);
    store.assert_clean(&env);
}

/// Records whose end nobody saw (their supervisor killed) and that have no room kept for a
/// rewrite: `rm -f` and `prune` remove them on a full disk without writing them first.
#[test]
fn stale_records_without_room_are_removed_on_a_full_disk() {
    let env = TestEnv::bare();
    let store = SmallStore::mount(&env);
    let spare = |name: &str| {
        let id = record(&env, name)["id"].as_str().unwrap().to_string();
        env.root
            .join("containers")
            .join(id)
            .join(".container.json.spare")
    };
    // Killed before it started anything: "created", its `run` gone.
    for name in ["claimed1", "claimed2"] {
        let (running, pid) = spawn_stopped(
            &env,
            "run:claimed",
            &["run", "--name", name, "busybox", "true"],
        );
        kill_stopped(running, pid);
    }
    // Running, its supervisor killed.
    env.mdrun(&["run", "-d", "--name", "orphan", "busybox", "sleep", "1000"])
        .assert_ok();
    let supervisor = record(&env, "orphan")["supervisor_pid"].as_i64().unwrap() as i32;
    signal(supervisor, libc::SIGKILL);
    wait_gone(supervisor);
    // No room kept for them: the claimed ones were killed before `run` made it, the
    // orphan's is taken away (as if an older mdrun had written its record).
    fs::remove_file(spare("orphan")).unwrap();
    for name in ["claimed1", "claimed2"] {
        assert_absent(&spare(name));
    }
    let fillers = [
        Filler::start(&env, "filler1"),
        Filler::start(&env, "filler2"),
    ];
    let [first, second] = fillers;
    first.fill(&store);

    env.mdrun(&["rm", "-f", "claimed1", "orphan"]).assert_ok();
    second.fill(&store);
    let pruned = env.mdrun(&["prune"]);
    pruned.assert_ok();
    assert_eq!(pruned.stderr, "", "{pruned}");
    assert_no_temp_files(&env);
    store.assert_clean(&env);
}

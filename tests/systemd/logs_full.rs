//! The journald driver on a full store, against a private systemd (tests/common/systemd.rs):
//! the local copy (`container.log`) runs out of room, which is reported once, while the
//! journal still gets every line; the exit status is the command's own and on record, and
//! `prune` removes the containers on the full store. The file driver:
//! tests/limits/full_disk.rs.

use crate::common::busybox_tarball;
use crate::sandbox;
use crate::sandbox::{Mdrun, Sandbox};

/// Room left in the store once the image is in it.
const FREE: u64 = 1 << 20;
/// Lines of 1,500 characters: 3 MB, three times the room.
const LINES: usize = 2000;

const FLAGS: &str = "--cgroup-manager systemd --log-driver journald";

/// An mdrun installation inside the sandbox whose root is a tmpfs of its own, sized to the
/// image plus [`FREE`].
fn small_store<'a>(sb: &'a Sandbox, tag: &str) -> Mdrun<'a> {
    let dir = format!("{}/full-{tag}", Sandbox::SCRATCH);
    let config = format!("{dir}/mdrun.toml");
    sb.ok(&format!(
        "mkdir -p {dir}/root && mount -t tmpfs -o size=64m,mode=0755 mdrun-full {dir}/root && \
         printf 'root = \"{dir}/root\"\\nrun_root = \"{dir}/run\"\\n' > {config}"
    ));
    let md = Mdrun { sb, dir, config };
    md.ok(&format!(
        "import {} busybox >/dev/null",
        busybox_tarball().display()
    ));
    let used: u64 = sb
        .ok(&format!("df -B1 --output=used {}/root | tail -n 1", md.dir))
        .trim()
        .parse()
        .unwrap();
    sb.ok(&format!(
        "mount -o remount,size={} {}/root",
        used + FREE,
        md.dir
    ));
    md
}

fn free(md: &Mdrun) -> u64 {
    md.sb
        .ok(&format!(
            "df -B1 --output=avail {}/root | tail -n 1",
            md.dir
        ))
        .trim()
        .parse()
        .unwrap()
}

/// `ps -a --format json`: (Status, ExitCode) of `name`.
fn ps(md: &Mdrun, name: &str) -> (String, i64) {
    let v: serde_json::Value = serde_json::from_str(&md.ok("ps -a --format json")).unwrap();
    let c = v
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["Name"] == name)
        .unwrap_or_else(|| panic!("no {name} in ps -a: {v}"))
        .clone();
    (
        c["Status"].as_str().unwrap().to_string(),
        c["ExitCode"].as_i64().unwrap(),
    )
}

/// What `name` logged to the journal, one message a line.
fn journal(md: &Mdrun, name: &str) -> String {
    md.sb.ok("journalctl --sync");
    md.sb.ok(&format!(
        "journalctl --no-pager -o cat CONTAINER_NAME={name}"
    ))
}

#[track_caller]
fn assert_one_log_warning(stderr: &str) {
    let lines: Vec<&str> = stderr.lines().collect();
    assert!(
        lines.len() == 1
            && lines[0].starts_with("mdrun: log ")
            && lines[0].contains("container.log: No space left on device")
            && lines[0].ends_with("further output is not logged"),
        "expected one warning about the log, got:\n{stderr}"
    );
}

#[test]
fn journald_driver_on_a_full_store_keeps_the_exit_code_and_reports_once() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let tag = format!("{:x}", std::process::id());
    let md = small_store(sb, &tag);
    let script = format!(
        "l=$(printf %01500d 0); i=0; while [ $i -lt {LINES} ]; do echo \"$i $l\"; i=$((i+1)); done; echo last-line"
    );
    let (att, det) = (format!("jatt{tag}"), format!("jdet{tag}"));

    // Attached: every line on our stdout and in the journal, one warning, status 0.
    let out = md.sh(&format!(
        "run --name {att} {FLAGS} busybox sh -c '{script}'"
    ));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout.lines().count(), LINES + 1);
    assert!(stdout.ends_with("\nlast-line\n"));
    assert_one_log_warning(&stderr(&out));
    assert_eq!(journal(&md, &att), stdout);
    let (status, code) = ps(&md, &att);
    assert!(status.starts_with("Exited (0)") && code == 0, "{status}");
    md.ok(&format!("rm {att}"));

    // Detached: its supervisor records the end; the journal has every line.
    md.ok(&format!(
        "run -d --name {det} {FLAGS} busybox sh -c '{script}'"
    ));
    assert_eq!(md.ok(&format!("wait {det}")).trim(), "0");
    assert_eq!(journal(&md, &det), stdout);
    let (status, code) = ps(&md, &det);
    assert!(status.starts_with("Exited (0)") && code == 0, "{status}");
    assert!(free(&md) < FREE / 4, "{} bytes free", free(&md));

    let pruned = md.sh("prune");
    assert!(pruned.status.success(), "{}", stderr(&pruned));
    assert_eq!(stderr(&pruned), "");
    let left = sb.ok(&format!(
        "find {0}/root/containers {0}/run -mindepth 1 -maxdepth 1 ! -name .lock; find {0}/root -name '*.tmp*'",
        md.dir
    ));
    assert_eq!(left, "");
    assert_eq!(md.leftovers(), "");
    sb.ok(&format!("umount {}/root", md.dir));
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

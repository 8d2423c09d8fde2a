//! `mdrun logs -f`, `--tail`, `--since` and `-t` for a container of the journald driver,
//! against a private systemd (tests/common/systemd.rs). The container writes a first batch,
//! waits for the test's go-ahead (a file on a volume), then writes a second: the cut for
//! `--since` is taken between the two, so no sleep decides what lands on which side.

use crate::common::busybox_tarball;
use crate::sandbox;
use crate::sandbox::Mdrun;

const FLAGS: &str = "--cgroup-manager systemd --log-driver journald";

#[test]
fn logs_follow_tail_since_and_timestamps_from_the_journal() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    let tag = &md.dir[md.dir.len() - 4..];
    let name = format!("jl{tag}");
    let sig = format!("{}/sig", md.dir);
    sb.ok(&format!("mkdir -p {sig}"));
    let script = "echo a1; echo a2 >&2; echo a3; \
                  until [ -e /sig/go ]; do sleep 0.05; done; \
                  echo b1; echo b2 >&2; echo b3";
    md.ok(&format!(
        "run -d --name {name} -v {sig}:/sig {FLAGS} busybox sh -c '{script}'"
    ));
    md.wait_for(20, "the first batch in the journal", || {
        String::from_utf8_lossy(&md.sh(&format!("logs {name}")).stdout).contains("a3")
    });
    // `logs -f` while it runs, in the background, into files.
    let follow = format!("{}/follow", md.dir);
    sb.ok(&format!(
        "({} >{follow}.out 2>{follow}.err </dev/null; echo $? >{follow}.rc) >/dev/null 2>&1 &",
        md.line(&format!("logs -f {name}"))
    ));
    // The cut: after every line of the first batch is in the journal, before the second.
    let cut = sb.ok("date +%s.%N").trim().to_string();
    sb.ok(&format!("touch {sig}/go"));
    assert_eq!(md.ok(&format!("wait {name}")).trim(), "0");
    md.wait_for(20, "logs -f to end with the container", || {
        sb.sh(&format!("test -s {follow}.rc")).status.success()
    });
    assert_eq!(sb.ok(&format!("cat {follow}.rc")).trim(), "0");
    assert_eq!(
        sb.ok(&format!("cat {follow}.out")),
        "a1\na3\nb1\nb3\n",
        "logs -f stdout"
    );
    assert_eq!(sb.ok(&format!("cat {follow}.err")), "a2\nb2\n");

    // --since the cut: the second batch only.
    let since = md.sh(&format!("logs --since {cut} {name}"));
    assert!(since.status.success());
    assert_eq!(String::from_utf8_lossy(&since.stdout), "b1\nb3\n");
    assert_eq!(String::from_utf8_lossy(&since.stderr), "b2\n");
    // --tail 2: the last two lines, whichever stream they went to.
    let tail = md.sh(&format!("logs --tail 2 {name}"));
    assert_eq!(String::from_utf8_lossy(&tail.stdout), "b3\n");
    assert_eq!(String::from_utf8_lossy(&tail.stderr), "b2\n");
    // -t: an RFC 3339 time before each line, in order.
    let stamped = md.ok(&format!("logs -t {name}"));
    let lines: Vec<&str> = stamped.lines().collect();
    assert_eq!(lines.len(), 4, "{stamped}");
    for (line, text) in lines.iter().zip(["a1", "a3", "b1", "b3"]) {
        let (time, rest) = line.split_once(' ').unwrap_or_else(|| panic!("{line}"));
        assert_eq!(rest, text, "{stamped}");
        assert!(
            time.len() >= 20 && time.as_bytes()[10] == b'T',
            "not RFC 3339: {line}"
        );
    }
    md.ok(&format!("rm {name}"));
    sb.ok(&format!(
        "rm -rf {sig} {follow}.out {follow}.err {follow}.rc"
    ));
}

//! `run` SIGKILLed with the systemd cgroup manager, inside a private systemd
//! (tests/common/systemd.rs): killed once its init is in its transient scope but before the
//! record names the scope, the next `ps -a` shows it created and `rm` leaves no `md-*` unit
//! and no container cgroup behind.

use crate::common::busybox_tarball;
use crate::sandbox;
use crate::sandbox::Mdrun;

#[test]
fn run_killed_in_its_scope_leaves_no_unit_after_rm() {
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    let name = format!("ks{}", &md.dir[md.dir.len() - 4..]);
    let run = md.line(&format!(
        "run --name {name} --cgroup-manager systemd busybox sleep 300"
    ));
    // Stopped at `run:placed` (MDRUN_TEST_STOP_AT), seen in its scope, then SIGKILLed.
    let units = sb.ok(&format!(
        "MDRUN_TEST_STOP_AT=run:placed {run} >/dev/null 2>&1 </dev/null &
         p=$!; i=0
         until [ \"$(cut -d' ' -f3 /proc/$p/stat)\" = T ]; do
           i=$((i+1)); [ $i -lt 600 ] || {{ echo never stopped >&2; exit 1; }}; sleep 0.05
         done
         systemctl list-units --all --plain --no-legend 'md-*.scope'
         kill -9 $p; wait $p; true"
    ));
    assert!(
        units.contains(".scope"),
        "the init was in its scope: {units:?}"
    );
    let ps = md.ok("ps -a");
    assert!(
        ps.lines()
            .any(|l| l.contains(&name) && l.contains("Created")),
        "{ps}"
    );
    md.ok(&format!("rm {name}"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while !md.leftovers().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "left after rm: {}\n{}",
            md.leftovers(),
            sb.ok("systemctl status --no-pager 'md-*.scope' 2>&1; true")
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(md.ok("ps -aq").trim(), "");
}

//! `--sdnotify container`: under a Type=notify unit, the container's own READY=1 is what
//! makes the unit active (podman's `--sdnotify=container`), against a private systemd.

use crate::common::busybox_tarball;
use crate::sandbox;
use crate::sandbox::{Mdrun, MDRUN};
use std::path::PathBuf;

/// The static notifier (tests/fixtures/notify_ready.rs), built before the sandbox boots so
/// that the sandbox's view of the host's root has it.
fn notifier() -> PathBuf {
    crate::common::fixture::static_probe("notify_ready")
}

struct UnitCleanup<'a>(&'a sandbox::Sandbox, &'static str);

impl Drop for UnitCleanup<'_> {
    fn drop(&mut self) {
        let _ = self.0.sh(&format!(
            "systemctl stop {0}; systemctl reset-failed {0} 2>/dev/null; true",
            self.1
        ));
    }
}

#[test]
fn the_containers_own_ready_makes_the_unit_active() {
    let dir = notifier();
    let guard = sandbox::shared();
    let sb = guard.as_ref().unwrap();
    let md = Mdrun::new(sb, busybox_tarball(), "");
    let unit = "mdnotify.service";
    let _cleanup = UnitCleanup(sb, unit);
    // Another host process, that the container names as the service's main process: mdrun
    // is root, so systemd would believe a relayed MAINPID= (MAINPID=1 it refuses by itself,
    // as the manager). The relay must drop both.
    let decoy = "mddecoy.service";
    let _decoy_cleanup = UnitCleanup(sb, decoy);
    sb.ok(&format!("systemd-run --quiet --unit={decoy} sleep 600"));
    let decoy_pid = sb.unit_property(decoy, "MainPID");
    assert_ne!(decoy_pid, "0");
    // systemd-run waits for a Type=notify service to be ready (or to fail).
    let started = sb.sh(&format!(
        "systemd-run --unit={unit} -p Type=notify -p NotifyAccess=all -p KillMode=mixed \
         -p TimeoutStartSec=15 env MDRUN_CONFIG={cfg} {MDRUN} run --rm --name notifier \
         --sdnotify container -v {d}:/probe:ro \
         -e 'NOTIFY_BEFORE=MAINPID=1;MAINPID={decoy_pid}\nFDSTORE=1\nWATCHDOG_USEC=1' \
         busybox /probe/notify_ready",
        cfg = md.config,
        d = dir.display()
    ));
    assert!(
        started.status.success(),
        "the unit did not become ready: {}\n{}",
        String::from_utf8_lossy(&started.stderr),
        sb.ok(&format!(
            "journalctl --no-pager -n 40 -u {unit}; systemctl status --no-pager {unit}; true"
        ))
    );
    assert_eq!(sb.unit_property(unit, "ActiveState"), "active");
    // The status line is the container's: READY=1 came from inside, over the bound socket.
    assert_eq!(
        sb.unit_property(unit, "StatusText"),
        "ready from inside the container"
    );
    // mdrun stays the unit's main process (it sent MAINPID, not READY=1): the container's
    // MAINPID=1 and MAINPID=<decoy> were not relayed, nor its WATCHDOG_USEC=.
    let main_pid = sb.unit_property(unit, "MainPID");
    assert_ne!(
        main_pid, decoy_pid,
        "the container named the service's main PID"
    );
    assert_eq!(sb.ok(&format!("cat /proc/{main_pid}/comm")).trim(), "mdrun");
    assert_eq!(sb.unit_property(unit, "WatchdogUSec"), "0");
    assert_eq!(sb.unit_property(decoy, "ActiveState"), "active");
    sb.ok(&format!("systemctl stop {unit}"));
    md.wait_for(20, "the notifier to be gone", || {
        md.ok("ps -q").trim().is_empty()
    });
    assert_eq!(md.leftovers(), "");
}

//! A private, throw-away systemd for tests: PID 1 of new pid, mount, cgroup, uts, ipc and
//! net namespaces, booted on an overlay of `/` with a tmpfs upper layer, in cgroups of its
//! own nested under the test's cgroup in every hierarchy. Nothing it writes reaches the
//! host: systemd-tmpfiles on the host's root would empty /tmp, and systemd on the host's
//! cgroup roots would create init.scope and system.slice there (shared/docs/findings.md).
//!
//! Mounts inside are fresh, never binds of the host's: a new sysfs (its own net namespace
//! makes that possible), a tmpfs /sys/fs/cgroup with each hierarchy mounted again inside
//! the cgroup namespace, a minimal /dev, tmpfs /run, /tmp and [`Sandbox::SCRATCH`] (a real
//! filesystem for mdrun's storage: an overlay upperdir cannot live on an overlay).
//!
//! Dropping a [`Sandbox`] powers it off (SIGRTMIN+4; SIGTERM would make systemd re-exec
//! itself), kills it if it does not go, removes its cgroups depth-first and its files, even
//! when the test panicked.
//!
//! Included by the systemd area as `mod sandbox` (tests/systemd/main.rs).
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct Sandbox {
    /// The host's view of its PID 1.
    pub pid: i32,
    /// Its directory on the host (boot script, console log, overlay layers).
    pub dir: PathBuf,
    /// Its cgroup in each hierarchy (host paths), outermost first.
    cgroups: Vec<PathBuf>,
    /// The `unshare` process that forked PID 1.
    launcher: std::process::Child,
}

const BOOT: &str = r#"#!/bin/sh
set -e
dir=$1
mount --make-rprivate /
mount -t tmpfs -o mode=755 sdsbx "$dir/layers"
mkdir -p "$dir/layers/upper" "$dir/layers/work"
mount -t overlay -o "lowerdir=/,upperdir=$dir/layers/upper,workdir=$dir/layers/work" sdsbx "$dir/root"
r=$dir/root
mount -t tmpfs -o mode=755,nosuid dev "$r/dev"
for n in null zero full random urandom tty; do touch "$r/dev/$n"; mount --bind "/dev/$n" "$r/dev/$n"; done
mkdir -p "$r/dev/pts" "$r/dev/shm" "$r/dev/mqueue"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$r/dev/pts"
ln -s pts/ptmx "$r/dev/ptmx"; ln -s /proc/self/fd "$r/dev/fd"
ln -s /proc/self/fd/0 "$r/dev/stdin"; ln -s /proc/self/fd/1 "$r/dev/stdout"; ln -s /proc/self/fd/2 "$r/dev/stderr"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$r/dev/shm"
mount -t proc proc "$r/proc"
mount -t sysfs -o ro sysfs "$r/sys"
mount -t tmpfs -o mode=755 cgroup "$r/sys/fs/cgroup"
while read -r _ mp fstype opts _; do
  case $fstype in
    cgroup) o=$(echo "$opts" | tr , '\n' | grep -vE '^(rw|ro|relatime|nosuid|nodev|noexec)$' | paste -sd,)
            mkdir -p "$r$mp"; mount -t cgroup -o "$o" cgroup "$r$mp" ;;
    cgroup2) mkdir -p "$r$mp"; mount -t cgroup2 cgroup2 "$r$mp" ;;
  esac
done < "$dir/cgmounts"
mount -t tmpfs -o mode=755 run "$r/run"
mount -t tmpfs -o mode=1777 tmp "$r/tmp"
# A checkout under /tmp (the binary under test, target/tmp) stays visible through the new
# /tmp: bound at its own path.
ws=$(cat "$dir/workspace")
case $ws in /tmp/*) mkdir -p "$r$ws"; mount --bind "$ws" "$r$ws" ;; esac
mkdir -p "$r/var/lib/mdrun-sandbox"
mount -t tmpfs -o mode=755 scratch "$r/var/lib/mdrun-sandbox"
mkdir -p "$r/.oldroot"
cd "$r"
pivot_root . .oldroot
cd /
umount -l /.oldroot
rmdir /.oldroot
exec env container=mdrun-test /lib/systemd/systemd --unit=basic.target --log-target=console
"#;

/// `mountpoint -> our cgroup in that hierarchy`, for every mounted cgroup hierarchy.
fn hierarchies() -> Vec<(PathBuf, String)> {
    let own = fs::read_to_string("/proc/self/cgroup").expect("read /proc/self/cgroup");
    let mounts = fs::read_to_string("/proc/self/mounts").expect("read /proc/self/mounts");
    let mut out = Vec::new();
    for line in mounts.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        if f.len() < 4 {
            continue;
        }
        let (mp, fstype, opts) = (f[1], f[2], f[3]);
        let rel = match fstype {
            "cgroup2" => own
                .lines()
                .find_map(|l| l.strip_prefix("0::"))
                .map(str::to_string),
            "cgroup" => {
                let opts: Vec<&str> = opts.split(',').collect();
                own.lines().find_map(|l| {
                    let mut parts = l.splitn(3, ':');
                    let (_, ctrls, path) = (parts.next()?, parts.next()?, parts.next()?);
                    let matches = !ctrls.is_empty() && ctrls.split(',').all(|c| opts.contains(&c));
                    matches.then(|| path.to_string())
                })
            }
            _ => continue,
        };
        out.push((PathBuf::from(mp), rel.unwrap_or_else(|| "/".into())));
    }
    out
}

fn random_hex(n: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..n)
        .map(|_| format!("{:x}", rng.random_range(0..16u8)))
        .collect()
}

impl Sandbox {
    /// mdrun's storage inside: a tmpfs.
    pub const SCRATCH: &'static str = "/var/lib/mdrun-sandbox";

    /// How long one command inside may take ([`Sandbox::sh`]).
    pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(300);

    /// Boot one and wait until the system bus answers and systemd is up.
    pub fn boot() -> Sandbox {
        let tag = random_hex(8);
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("sdsbx-{tag}"));
        fs::create_dir_all(dir.join("layers")).unwrap();
        fs::create_dir_all(dir.join("root")).unwrap();
        fs::write(dir.join("boot"), BOOT).unwrap();
        fs::write(dir.join("workspace"), env!("CARGO_MANIFEST_DIR")).unwrap();
        let mounts = fs::read_to_string("/proc/self/mounts").unwrap();
        let cg: String = mounts
            .lines()
            .filter(|l| matches!(l.split(' ').nth(2), Some("cgroup" | "cgroup2")))
            .map(|l| format!("{l}\n"))
            .collect();
        fs::write(dir.join("cgmounts"), cg).unwrap();
        let mut cgroups = Vec::new();
        for (mp, rel) in hierarchies() {
            let cg = mp
                .join(rel.trim_start_matches('/'))
                .join(format!("mdrun-sdsbx-{tag}"));
            fs::create_dir_all(&cg).unwrap_or_else(|e| panic!("mkdir {}: {e}", cg.display()));
            if cg.join("cpuset.cpus").exists() {
                let parent = cg.parent().unwrap();
                for f in ["cpuset.cpus", "cpuset.mems"] {
                    fs::write(cg.join(f), fs::read(parent.join(f)).unwrap()).unwrap();
                }
            }
            cgroups.push(cg);
        }
        // A shell that joins the sandbox's cgroups, then becomes `unshare`, whose child
        // (PID 1 of the new pid namespace) runs the boot script and becomes systemd.
        let joins: String = cgroups
            .iter()
            .map(|c| format!("echo $$ > {}/cgroup.procs; ", c.display()))
            .collect();
        let launcher = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "{joins}exec setsid unshare --pid --fork --mount --cgroup --uts --ipc --net --kill-child sh {dir}/boot {dir} > {dir}/console.log 2>&1",
                dir = dir.display()
            ))
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn the sandbox launcher");
        let mut sb = Sandbox {
            pid: 0,
            dir,
            cgroups,
            launcher,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while sb.pid == 0 {
            let children =
                fs::read_to_string(format!("/proc/{0}/task/{0}/children", sb.launcher.id()))
                    .unwrap_or_default();
            if let Some(p) = children.split_whitespace().next() {
                sb.pid = p.parse().unwrap();
            } else {
                assert!(
                    Instant::now() < deadline,
                    "sandbox did not start:\n{}",
                    sb.console()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        loop {
            if sb
                .sh("busctl --system status org.freedesktop.systemd1 >/dev/null 2>&1")
                .status
                .success()
            {
                let _ = sb.sh("systemctl is-system-running --wait >/dev/null 2>&1");
                break;
            }
            assert!(
                Path::new(&format!("/proc/{}", sb.pid)).exists() && Instant::now() < deadline,
                "sandbox systemd did not come up:\n{}",
                sb.console()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        sb
    }

    pub fn console(&self) -> String {
        fs::read_to_string(self.dir.join("console.log")).unwrap_or_default()
    }

    /// A command that runs inside: joins a cgroup in the sandbox's tree first (else
    /// /proc/self/cgroup reads "/.." inside and cgroup moves across the namespace boundary
    /// fail), then enters all its namespaces.
    pub fn command<S: AsRef<std::ffi::OsStr>>(&self, argv: &[S]) -> Command {
        let mut join = String::new();
        for cg in &self.cgroups {
            let exec = cg.join("test-exec");
            join += &format!("mkdir -p {e}; ", e = exec.display());
            if cg.join("cpuset.cpus").exists() {
                join += &format!(
                    "[ -n \"$(cat {e}/cpuset.cpus)\" ] || {{ cat {c}/cpuset.cpus > {e}/cpuset.cpus; cat {c}/cpuset.mems > {e}/cpuset.mems; }}; ",
                    e = exec.display(),
                    c = cg.display()
                );
            }
            join += &format!("echo $$ > {}/cgroup.procs; ", exec.display());
        }
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(format!("{join}exec nsenter -t {} -a \"$@\"", self.pid))
            .arg("sh")
            .args(argv)
            .stdin(Stdio::null());
        c
    }

    /// Run `script` with sh inside; output captured. A script still running after
    /// [`Sandbox::COMMAND_TIMEOUT`] is killed and fails the test with what it printed.
    #[track_caller]
    pub fn sh(&self, script: &str) -> Output {
        self.output_within(&mut self.command(&["sh", "-c", script]))
    }

    /// Run a [`Sandbox::command`] with the deadline [`Sandbox::COMMAND_TIMEOUT`]; at the
    /// deadline the test fails with what it printed and what runs inside (processes, their
    /// states and where they wait; frozen cgroups), for a hang seen only elsewhere.
    #[track_caller]
    pub fn output_within(&self, command: &mut Command) -> Output {
        match crate::common::process::try_output_within(command, Self::COMMAND_TIMEOUT) {
            Ok(out) => out,
            Err(e) => {
                // Without command()'s cgroup joins: the arguments after nsenter's.
                let e = match e.split_once("-a \\\"$@\\\"\" ") {
                    Some((_, rest)) => format!("in the sandbox: {rest}"),
                    None => e,
                };
                let diag = crate::common::process::try_output_within(
                    &mut self.command(&[
                        "sh",
                        "-c",
                        "ps -eo pid,ppid,stat,wchan:24,etime,args; \
                         grep -l FROZEN -r /sys/fs/cgroup/freezer --include freezer.state 2>/dev/null; \
                         grep -l '^1' -r /sys/fs/cgroup --include cgroup.freeze 2>/dev/null; \
                         systemctl list-jobs --no-pager 2>&1 | head -20",
                    ]),
                    Duration::from_secs(30),
                )
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_else(|e| format!("(no diagnosis either: {e})"));
                panic!("{e}\n--- inside the sandbox ---\n{diag}");
            }
        }
    }

    /// Run `script` inside and return its stdout; panics (with its stderr) unless it succeeds.
    #[track_caller]
    pub fn ok(&self, script: &str) -> String {
        let out = self.sh(script);
        assert!(
            out.status.success(),
            "`{script}` failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `systemctl show -p PROP --value UNIT`.
    pub fn unit_property(&self, unit: &str, prop: &str) -> String {
        self.ok(&format!("systemctl show -p {prop} --value {unit}"))
            .trim()
            .to_string()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // A frozen process cannot die: whatever a test left paused is thawed first.
        for cg in &self.cgroups {
            thaw_below(cg);
        }
        if self.pid > 0 {
            // SAFETY: kill(2) on the PID 1 we started; no memory is involved.
            unsafe { libc::kill(self.pid, libc::SIGRTMIN() + 4) };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Path::new(&format!("/proc/{}", self.pid)).exists() && Instant::now() < deadline {
                if let Ok(Some(_)) = self.launcher.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            // SAFETY: as above; SIGKILL ends the namespace and so every process in it.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
        }
        let _ = self.launcher.kill();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.launcher.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        // Its cgroups, depth-first (the processes are gone once the pid namespace is).
        for cg in self.cgroups.iter().rev() {
            let deadline = Instant::now() + Duration::from_secs(5);
            while cg.exists() {
                let _ = remove_depth_first(cg);
                if Instant::now() > deadline {
                    eprintln!("sandbox: could not remove {}", cg.display());
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        if std::env::var_os("MDRUN_TEST_KEEP").is_none() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

fn thaw_below(dir: &Path) {
    let _ = fs::write(dir.join("freezer.state"), "THAWED");
    let _ = fs::write(dir.join("cgroup.freeze"), "0");
    for e in fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            thaw_below(&e.path());
        }
    }
}

fn remove_depth_first(dir: &Path) -> std::io::Result<()> {
    for e in fs::read_dir(dir)?.flatten() {
        if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            let _ = remove_depth_first(&e.path());
        }
    }
    fs::remove_dir(dir)
}

/// One sandbox per test binary, booted by the first test that asks. Tests take turns (the
/// lock) and each cleans up its own units and containers. Statics are never dropped, so an
/// atexit handler powers the sandbox off when the test process exits, whatever passed.
pub fn shared() -> std::sync::MutexGuard<'static, Option<Sandbox>> {
    use std::sync::{Mutex, OnceLock};
    static SB: OnceLock<Mutex<Option<Sandbox>>> = OnceLock::new();
    extern "C" fn power_off() {
        if let Some(m) = SB.get() {
            let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
            drop(g.take());
        }
    }
    let m = SB.get_or_init(|| Mutex::new(None));
    let mut g = m.lock().unwrap_or_else(|e| e.into_inner());
    if g.is_none() {
        *g = Some(Sandbox::boot());
        // SAFETY: registers a plain function to run at exit(3); no memory is shared.
        unsafe { libc::atexit(power_off) };
    }
    g
}

/// The mdrun binary under test, as the sandbox sees it (its root is an overlay of ours).
pub const MDRUN: &str = env!("CARGO_BIN_EXE_mdrun");

/// A private mdrun installation inside the sandbox: `<SCRATCH>/<tag>/{root,run}`, its own
/// MDRUN_CONFIG, the busybox image imported. Dropping it removes every container it still
/// has (`rm -f`), then checks that no `md-*` unit and no container cgroup is left.
pub struct Mdrun<'a> {
    pub sb: &'a Sandbox,
    /// Its directory inside the sandbox.
    pub dir: String,
    pub config: String,
}

impl<'a> Mdrun<'a> {
    /// `extra` is appended to the config file (e.g. `slice = "x.slice"`).
    pub fn new(sb: &'a Sandbox, busybox: &Path, extra: &str) -> Mdrun<'a> {
        let dir = format!("{}/md-{}", Sandbox::SCRATCH, random_hex(8));
        let config = format!("{dir}/mdrun.toml");
        sb.ok(&format!(
            "mkdir -p {dir} && printf 'root = \"{dir}/root\"\\nrun_root = \"{dir}/run\"\\n%s\\n' '{extra}' > {config}"
        ));
        let md = Mdrun { sb, dir, config };
        md.ok(&format!("import {} busybox >/dev/null", busybox.display()));
        md
    }

    /// A shell line that runs mdrun with this installation's config.
    pub fn line(&self, args: &str) -> String {
        format!("env MDRUN_CONFIG={} {MDRUN} {args}", self.config)
    }

    /// `mdrun ARGS` (a shell line) inside; output captured.
    pub fn sh(&self, args: &str) -> Output {
        self.sb.sh(&self.line(args))
    }

    /// `mdrun ARGS` inside; its stdout, panicking with its stderr unless it succeeds.
    #[track_caller]
    pub fn ok(&self, args: &str) -> String {
        self.sb.ok(&self.line(args))
    }

    /// Wait (up to `secs`) until `check` holds, polling; panics with `what` otherwise.
    #[track_caller]
    pub fn wait_for(&self, secs: u64, what: &str, mut check: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while !check() {
            assert!(
                Instant::now() < deadline,
                "timed out after {secs} s: {what}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What of mdrun's containers is left in systemd and the cgroup trees: `md-*` units
    /// that are loaded, `md-*.scope` and `mdrun-*` cgroups anywhere.
    pub fn leftovers(&self) -> String {
        self.sb
            .ok(
                "systemctl list-units --all --plain --no-legend 'md-*' | grep . ; \
                 find /sys/fs/cgroup -name 'md-*.scope' -o -name 'mdrun-*' | grep . ; true",
            )
            .trim()
            .to_string()
    }
}

impl Drop for Mdrun<'_> {
    fn drop(&mut self) {
        let ids = self.sh("ps -aq");
        let ids = String::from_utf8_lossy(&ids.stdout).into_owned();
        for id in ids.split_whitespace() {
            let _ = self.sh(&format!("rm -f {id}"));
        }
        let left = {
            let deadline = Instant::now() + Duration::from_secs(15);
            loop {
                let left = self.leftovers();
                if left.is_empty() || Instant::now() > deadline {
                    break left;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        };
        let _ = self.sb.sh(&format!("rm -rf {}", self.dir));
        if !left.is_empty() {
            let msg = format!("left behind in the sandbox:\n{left}");
            if std::thread::panicking() {
                eprintln!("{msg}");
            } else {
                panic!("{msg}");
            }
        }
    }
}

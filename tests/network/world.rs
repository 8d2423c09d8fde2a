//! A throwaway world for each network test, so that nothing in the machine's own network
//! namespace changes: a namespace playing the host (where mdrun runs: bridges, veths, the
//! `inet mdrun` table and ip_forward all live and die there), and one playing the outside
//! world, joined to it by a veth (host 192.0.2.2, outside 192.0.2.1, a documentation
//! range), with a web server on 192.0.2.1:80. Dropped, it ends its processes by pid, and
//! the namespaces go with them.

use crate::common::TestEnv;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const OUTSIDE_IP: &str = "192.0.2.1";
pub const HOST_IP: &str = "192.0.2.2";
pub const OUTSIDE_PAGE: &str = "hello from the outside world";

pub struct World {
    pub host: Child,
    pub outside: Child,
    httpd: Option<Child>,
    www: tempfile::TempDir,
}

fn sleeper() -> Child {
    Command::new("unshare")
        .args(["--net", "sleep", "3600"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("unshare --net sleep")
}

/// Has process `pid` entered a network namespace other than ours yet?
fn in_own_netns(pid: u32) -> bool {
    let mine = std::fs::read_link("/proc/self/ns/net").unwrap();
    std::fs::read_link(format!("/proc/{pid}/ns/net")).is_ok_and(|n| n != mine)
        && std::fs::read_link(format!("/proc/{pid}/exe"))
            .is_ok_and(|e| e.to_string_lossy().contains("sleep"))
}

impl World {
    /// The two namespaces, linked, the outside's server up; `env`'s mdrun runs in the host.
    pub fn new() -> World {
        let host = sleeper();
        let outside = sleeper();
        for p in [host.id(), outside.id()] {
            wait_until(&format!("unshare of {p}"), || in_own_netns(p));
        }
        let www = tempfile::tempdir().unwrap();
        std::fs::write(www.path().join("index.html"), OUTSIDE_PAGE).unwrap();
        let mut w = World {
            host,
            outside,
            httpd: None,
            www,
        };
        let o = w.outside.id().to_string();
        w.host_sh(&format!(
            "ip link set lo up && \
             ip link add ext0 type veth peer name eth0 netns /proc/{o}/ns/net && \
             ip addr add {HOST_IP}/24 dev ext0 && ip link set ext0 up && \
             ip route add default via {OUTSIDE_IP}"
        ))
        .assert();
        w.outside_sh(&format!(
            "ip link set lo up && ip addr add {OUTSIDE_IP}/24 dev eth0 && ip link set eth0 up"
        ))
        .assert();
        let httpd = Command::new("nsenter")
            .args(["-t", &o, "-n", "busybox", "httpd", "-f", "-p"])
            .arg(format!("{OUTSIDE_IP}:80"))
            .arg("-h")
            .arg(w.www.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("busybox httpd");
        w.httpd = Some(httpd);
        wait_until("the outside's httpd", || {
            w.host_sh(&format!("busybox wget -qO- http://{OUTSIDE_IP}/"))
                .stdout()
                == OUTSIDE_PAGE
        });
        w
    }

    /// This world's host runs `env`'s mdrun from now on.
    pub fn enter(&self, env: &TestEnv) {
        env.enter_netns(self.host.id() as i32);
    }

    pub fn host_sh(&self, script: &str) -> Sh {
        sh_in(self.host.id(), script)
    }

    pub fn outside_sh(&self, script: &str) -> Sh {
        sh_in(self.outside.id(), script)
    }

    /// `ip -o link` names in the host, veths' `@peer` cut off.
    pub fn host_links(&self) -> Vec<String> {
        self.host_sh("ip -o link")
            .stdout()
            .lines()
            .filter_map(|l| l.split(": ").nth(1))
            .map(|n| n.split('@').next().unwrap().to_string())
            .collect()
    }

    /// The host's mdrun port maps, as `nft` lists their elements (empty when none): the
    /// lines inside each `map *_ports { ... }` block but its `type` line. (nft puts the
    /// elements two lines below the map's name, after its type, and breaks long lists.)
    pub fn port_elements(&self) -> String {
        let out = self.host_sh(
            "nft list table inet mdrun 2>/dev/null | awk '\
             /map [a-z_]*_ports [{]/ { m = 1; next } \
             m && /^[[:space:]]*[}][[:space:]]*$/ { m = 0; next } \
             m && !/^[[:space:]]*type / { print }'",
        );
        out.stdout()
    }

    /// The host ends of containers' veths.
    pub fn veths(&self) -> Vec<String> {
        self.host_links()
            .into_iter()
            .filter(|l| l.starts_with("vmd"))
            .collect()
    }

    /// Nothing of a container left in the host: no veth, no published port. A container
    /// that ended leaves its veth to the kernel, which deletes it with the container's
    /// network namespace from a work queue: waited for, not raced.
    pub fn assert_no_container_traces(&self) {
        wait_until("the kernel's removal of ended containers' veths", || {
            self.veths().is_empty()
        });
        assert_eq!(self.port_elements(), "", "published ports left");
    }
}

impl Drop for World {
    fn drop(&mut self) {
        for c in [
            self.httpd.as_mut(),
            Some(&mut self.host),
            Some(&mut self.outside),
        ]
        .into_iter()
        .flatten()
        {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub struct Sh(Output);

impl Sh {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    pub fn ok(&self) -> bool {
        self.0.status.success()
    }
    pub fn assert(&self) -> &Sh {
        assert!(
            self.ok(),
            "failed: {}\n{}",
            self.stdout(),
            String::from_utf8_lossy(&self.0.stderr)
        );
        self
    }
}

fn sh_in(pid: u32, script: &str) -> Sh {
    Sh(Command::new("nsenter")
        .args(["-t", &pid.to_string(), "-n", "sh", "-c", script])
        .stdin(Stdio::null())
        .output()
        .expect("nsenter"))
}

/// Wait until `done` (something starting up), failing after a generous deadline.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within 30 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

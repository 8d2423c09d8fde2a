//! Which network a container gets, and what it can reach from there.

use crate::common::TestEnv;
use crate::world::{World, OUTSIDE_IP, OUTSIDE_PAGE};

#[test]
fn none_is_the_default_and_shows_only_loopback() {
    let world = World::new();
    let env = TestEnv::new();
    world.enter(&env);
    for args in [
        &["busybox", "ip", "-o", "link"][..],
        &["--network", "none", "busybox", "ip", "-o", "link"],
    ] {
        let out = env.run(args);
        out.assert_ok();
        let links: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(links.len(), 1, "{args:?}: {links:?}");
        assert!(links[0].starts_with("1: lo:"), "{links:?}");
    }
    // Nothing was made in the host for it.
    assert_eq!(world.host_links(), ["lo", "ext0"]);
}

#[test]
fn bridge_gets_an_address_a_route_and_nat_to_the_outside() {
    let world = World::new();
    let env = TestEnv::new();
    world.enter(&env);
    let out = env.run(&[
        "--network",
        "bridge",
        "--dns",
        "198.51.100.53",
        "--dns-search",
        "example.org",
        "--add-host",
        "extra:198.51.100.7",
        "-h",
        "box",
        "busybox",
        "sh",
        "-c",
        "ip -o -4 addr show eth0; ip route; cat /etc/resolv.conf /etc/hosts; \
         wget -qO- http://192.0.2.1/",
    ]);
    out.assert_ok();
    let s = &out.stdout;
    assert!(s.contains("inet 10.88.0.2/16"), "{s}");
    assert!(s.contains("default via 10.88.0.1 dev eth0"), "{s}");
    assert!(
        s.contains("search example.org\nnameserver 198.51.100.53\n"),
        "{s}"
    );
    assert!(s.contains("10.88.0.2\tbox\n"), "{s}");
    assert!(s.contains("198.51.100.7\textra\n"), "{s}");
    // The outside world has no route back to 10.88.0.0/16: an answer means masquerade.
    assert!(s.ends_with(OUTSIDE_PAGE), "{s}");
    world.assert_no_container_traces();
    // The bridge stays (made once per network), the veth went with the container.
    assert_eq!(world.host_links(), ["lo", "ext0", "mdrun0"]);
}

#[test]
fn the_config_default_bridge_and_fixed_ip_and_mac() {
    let world = World::new();
    let env = TestEnv::new();
    world.enter(&env);
    let mut text = std::fs::read_to_string(&env.config).unwrap();
    text.push_str("network = \"bridge\"\n");
    std::fs::write(&env.config, text).unwrap();
    let out = env.run(&[
        "--ip",
        "10.88.7.9",
        "--mac-address",
        "02:42:0a:58:07:09",
        "busybox",
        "sh",
        "-c",
        "ip -o -4 addr show eth0; cat /sys/class/net/eth0/address",
    ]);
    out.assert_ok();
    assert!(out.stdout.contains("inet 10.88.7.9/16"), "{}", out.stdout);
    assert!(out.stdout.contains("02:42:0a:58:07:09"), "{}", out.stdout);
    world.assert_no_container_traces();
}

#[test]
fn host_network_sees_the_hosts_links() {
    let world = World::new();
    let env = TestEnv::new();
    world.enter(&env);
    let out = env.run(&["--network", "host", "busybox", "ip", "-o", "link"]);
    out.assert_ok();
    assert!(out.stdout.contains("ext0"), "{}", out.stdout);
}

#[test]
fn internal_network_reaches_nothing_outside() {
    let world = World::new();
    let env = TestEnv::new();
    world.enter(&env);
    env.mdrun(&[
        "network",
        "create",
        "--internal",
        "--subnet",
        "10.90.0.0/24",
        "sealed",
    ])
    .assert_ok();
    let out = env.run(&[
        "--network", "sealed", "busybox", "sh", "-c",
        &format!("ip -o -4 addr show eth0; ip route; wget -qO- -T 3 http://{OUTSIDE_IP}/ && echo REACHED"),
    ]);
    assert!(out.stdout.contains("inet 10.90.0.2/24"), "{out}");
    assert!(!out.stdout.contains("default"), "{out}");
    assert!(!out.stdout.contains("REACHED"), "{out}");
    // Even with a route of its own, nothing is forwarded out of an internal network.
    let out = env.run(&[
        "--network", "sealed", "--cap-add", "NET_ADMIN", "busybox", "sh", "-c",
        &format!("ip route add default via 10.90.0.1 && wget -qO- -T 3 http://{OUTSIDE_IP}/ && echo REACHED"),
    ]);
    assert!(!out.stdout.contains("REACHED"), "{out}");
    env.mdrun(&["network", "rm", "sealed"]).assert_ok();
    world.assert_no_container_traces();
    assert_eq!(world.host_links(), ["lo", "ext0"]);
}

#[test]
fn concurrent_runs_get_different_addresses() {
    const N: usize = 30;
    let world = World::new();
    let env = TestEnv::new();
    world.enter(&env);
    let runs: Vec<_> = (0..N)
        .map(|i| {
            env.cmd(&[
                "run",
                "-d",
                "--network",
                "bridge",
                "--name",
                &format!("c{i}"),
                "busybox",
                "sleep",
                "600",
            ])
            .spawn()
        })
        .collect();
    for r in runs {
        r.wait().assert_ok();
    }
    let out = env.mdrun(&["network", "inspect", "mdrun"]);
    out.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let mut ips: Vec<String> = v[0]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["ip"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ips.len(), N, "{}", out.stdout);
    ips.sort();
    ips.dedup();
    assert_eq!(ips.len(), N, "an address was given twice: {}", out.stdout);
    let names: Vec<String> = (0..N).map(|i| format!("c{i}")).collect();
    let mut rm = vec!["rm".to_string(), "-f".to_string()];
    rm.extend(names);
    env.mdrun(&rm).assert_ok();
    world.assert_no_container_traces();
}

#[test]
fn container_network_shares_another_containers_namespace_and_start_gets_an_address_again() {
    let world = World::new();
    let env = TestEnv::new();
    world.enter(&env);
    env.mdrun(&[
        "run",
        "-d",
        "--name",
        "pod",
        "--network",
        "bridge",
        "busybox",
        "sleep",
        "600",
    ])
    .assert_ok();
    let out = env.run(&[
        "--network",
        "container:pod",
        "busybox",
        "ip",
        "-o",
        "-4",
        "addr",
        "show",
        "eth0",
    ]);
    out.assert_ok();
    assert!(out.stdout.contains("inet 10.88.0.2/16"), "{out}");
    // Stopped, its address is free; started again, it gets one again.
    env.mdrun(&["stop", "-t", "0", "pod"]).assert_ok();
    let leases = std::fs::read_to_string(env.root.join("networks/mdrun.leases")).unwrap();
    assert_eq!(leases, "", "a stopped container keeps no address");
    env.mdrun(&["start", "pod"]).assert_ok();
    let out = env.mdrun(&["exec", "pod", "ip", "-o", "-4", "addr", "show", "eth0"]);
    out.assert_ok();
    assert!(out.stdout.contains("inet 10.88.0.2/16"), "{out}");
    env.mdrun(&["rm", "-f", "pod"]).assert_ok();
    world.assert_no_container_traces();
}

/// The mount points of a network's /etc/hosts and /etc/resolv.conf are in an init layer of
/// the container's own, as docker's: not in its write layer, so `diff` does not list them and
/// `commit` does not put empty files into the image (the busybox image has neither file).
#[test]
fn network_files_stay_out_of_diff_and_commit() {
    let world = World::new();
    let env = TestEnv::new();
    world.enter(&env);
    for network in ["bridge", "host"] {
        let name = format!("files-{network}");
        env.mdrun(&[
            "run",
            "--name",
            &name,
            "--network",
            network,
            "busybox",
            "sh",
            "-c",
            "test -s /etc/resolv.conf && touch /made",
        ])
        .assert_ok();
        let diff = env.mdrun(&["diff", &name]);
        diff.assert_ok();
        assert_eq!(diff.stdout, "A /made\n", "{network}: {diff}");
        let image = format!("localhost/files-{network}");
        env.mdrun(&["commit", &name, &image]).assert_ok();
        let out = env.run(&[
            "--network",
            "none",
            &image,
            "sh",
            "-c",
            "ls /made; ls /etc/hosts /etc/resolv.conf 2>&1; true",
        ]);
        out.assert_ok();
        assert!(out.stdout.starts_with("/made\n"), "{out}");
        assert_eq!(out.stdout.matches("No such file").count(), 2, "{out}");
        // Started again: the same init layer, the files mounted again.
        env.mdrun(&["start", "-a", &name]).assert_ok();
        env.mdrun(&["rm", &name]).assert_ok();
        env.mdrun(&["rmi", &image]).assert_ok();
    }
    world.assert_no_container_traces();
    env.assert_clean();
}

/// As docker: `--network host` sees the host's /etc/hosts and /etc/resolv.conf, as its own
/// copies (a change stays inside), with `--add-host` lines added.
#[test]
fn host_network_gets_the_hosts_hosts_and_resolv_conf() {
    let world = World::new();
    let env = TestEnv::new();
    world.enter(&env);
    let host_hosts = std::fs::read_to_string("/etc/hosts").unwrap();
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap();
    let out = env.run(&[
        "--network",
        "host",
        "--add-host",
        "db:192.0.2.9",
        "busybox",
        "sh",
        "-c",
        "cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo '1.2.3.4 mine' >> /etc/hosts",
    ]);
    out.assert_ok();
    let (hosts, resolv) = out.stdout.split_once("---\n").unwrap();
    let expected = format!("{}\n192.0.2.9\tdb", host_hosts.trim_end());
    assert_eq!(hosts.trim_end(), expected);
    assert_eq!(resolv, host_resolv);
    assert_eq!(std::fs::read_to_string("/etc/hosts").unwrap(), host_hosts);
    env.assert_clean();
}

/// The README's first command after install.sh: install.sh's config (config/mdrun.toml)
/// makes the bridge the default network, as docker's, so `mdrun --memory 100m busybox sh`
/// gets an address on mdrun0 and reaches the outside (here in a namespace playing the host).
#[test]
fn a_fresh_installs_default_network_is_the_bridge() {
    let world = World::new();
    let env = TestEnv::new();
    world.enter(&env);
    // install.sh's setting, beside this scenario's store, run directory and cgroup parent.
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/config/mdrun.toml");
    let shipped = std::fs::read_to_string(shipped).unwrap();
    let network = shipped
        .lines()
        .find(|l| l.starts_with("network = "))
        .expect("config/mdrun.toml sets no network");
    let mut text = std::fs::read_to_string(&env.config).unwrap();
    text = format!("{text}{network}\n");
    std::fs::write(&env.config, text).unwrap();
    let out = env.mdrun(&[
        "--memory",
        "100m",
        "--name",
        "main",
        "busybox",
        "sh",
        "-c",
        "ip -o -4 addr show eth0; wget -qO- http://192.0.2.1/",
    ]);
    out.assert_ok();
    assert!(out.stdout.contains("inet 10.88.0.2/16"), "{out}");
    assert!(out.stdout.ends_with(OUTSIDE_PAGE), "{out}");
    env.mdrun(&["rm", "main"]).assert_ok();
    world.assert_no_container_traces();
}

//! `network connect` / `disconnect` of a running container: a second interface eth1 into
//! another network's bridge, names across both, inspect showing both; everything gone again
//! after disconnect, after the container's end and after `rm -f`.

use crate::common::TestEnv;
use crate::world::World;

fn networks(env: &TestEnv, name: &str) -> serde_json::Value {
    let out = env.mdrun(&["inspect", name]);
    out.assert_ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    v[0]["NetworkSettings"]["Networks"].clone()
}

fn sleeper(env: &TestEnv, name: &str, network: &str) {
    env.mdrun(&[
        "run",
        "-d",
        "--name",
        name,
        "--network",
        network,
        "busybox",
        "sleep",
        "600",
    ])
    .assert_ok();
}

#[test]
fn connect_and_disconnect_a_running_container() {
    let world = World::new();
    let env = TestEnv::new();
    world.enter(&env);
    env.mdrun(&["network", "create", "--subnet", "10.89.7.0/24", "appnet"])
        .assert_ok();
    sleeper(&env, "web", "bridge");
    sleeper(&env, "db", "appnet");
    env.mdrun(&["network", "connect", "--alias", "webalias", "appnet", "web"])
        .assert_ok();
    // eth1 with the next address of appnet, as the lease and inspect say.
    let out = env.mdrun(&["exec", "web", "ip", "-o", "-4", "addr", "show", "eth1"]);
    out.assert_ok();
    assert!(out.stdout.contains("10.89.7.3/24"), "{out}");
    let nets = networks(&env, "web");
    assert_eq!(nets["mdrun"]["IPAddress"], "10.88.0.2", "{nets}");
    assert_eq!(nets["appnet"]["IPAddress"], "10.89.7.3", "{nets}");
    assert_eq!(nets["appnet"]["MacAddress"], "02:42:0a:59:07:03", "{nets}");
    // Names across the network, both ways: db's hosts file was refreshed, web's has db.
    env.mdrun(&["exec", "db", "ping", "-c1", "web"]).assert_ok();
    env.mdrun(&["exec", "db", "ping", "-c1", "webalias"])
        .assert_ok();
    let out = env.mdrun(&["exec", "web", "ping", "-c1", "db"]);
    out.assert_ok();
    assert!(out.stdout.contains("from 10.89.7.2"), "{out}");
    // Its first network still works: web reaches the outside through NAT.
    env.mdrun(&["exec", "web", "wget", "-qO-", "http://192.0.2.1/"])
        .assert_ok();

    // Bad input: one line, exit 125, nothing changed.
    for args in [
        &["connect", "appnet", "web"][..],
        &["connect", "nosuchnet", "web"],
        &["connect", "appnet", "nosuchcontainer"],
        &["connect", "--ip", "10.89.7.2", "mdrun", "db"],
        &["disconnect", "mdrun", "db"],
    ] {
        let mut all = vec!["network"];
        all.extend_from_slice(args);
        env.mdrun(&all).assert_one_line_error(125);
    }
    assert_eq!(networks(&env, "db").as_object().unwrap().len(), 1);

    env.mdrun(&["network", "disconnect", "appnet", "web"])
        .assert_ok();
    let out = env.mdrun(&["exec", "web", "ip", "link", "show", "eth1"]);
    assert_ne!(out.code, 0, "eth1 still there: {out}");
    let nets = networks(&env, "web");
    assert!(nets.get("appnet").is_none(), "{nets}");
    for (who, other) in [("db", "web"), ("web", "db")] {
        let hosts = env.mdrun(&["exec", who, "cat", "/etc/hosts"]).stdout;
        assert!(!hosts.contains(other), "{who}: {hosts}");
    }
    let users = env.mdrun(&["network", "inspect", "appnet"]).stdout;
    assert!(!users.contains("\"web\""), "{users}");
    assert_eq!(
        world
            .host_links()
            .iter()
            .filter(|l| l.starts_with("vmd"))
            .count(),
        2
    );

    // Connected again with --ip; its end gives that up too.
    env.mdrun(&["network", "connect", "--ip", "10.89.7.50", "appnet", "web"])
        .assert_ok();
    env.mdrun(&["exec", "db", "ping", "-c1", "10.89.7.50"])
        .assert_ok();
    env.mdrun(&["stop", "-t", "1", "web"]).assert_ok();
    let users = env.mdrun(&["network", "inspect", "appnet"]).stdout;
    assert!(!users.contains("10.89.7.50"), "{users}");
    let hosts = env.mdrun(&["exec", "db", "cat", "/etc/hosts"]).stdout;
    assert!(!hosts.contains("web"), "{hosts}");
    // A connected container removed with rm -f leaves nothing either.
    env.mdrun(&["start", "web"]).assert_ok();
    env.mdrun(&["network", "connect", "appnet", "web"])
        .assert_ok();
    env.mdrun(&["rm", "-f", "web", "db"]).assert_ok();
    env.mdrun(&["network", "rm", "appnet"]).assert_ok();
    world.assert_no_container_traces();
    assert_eq!(world.host_links(), ["lo", "ext0", "mdrun0"]);
}

/// As docker: a container may leave the network it started on; its published ports go with
/// it (docker revokes the leaving endpoint's external connectivity), its eth0 and lease too.
/// When it ends later, it removes no port: the host port may be another container's by then.
#[test]
fn disconnect_of_the_first_network_takes_its_ports_with_it() {
    let world = World::new();
    let env = TestEnv::new();
    world.enter(&env);
    for name in ["web", "web2"] {
        if name == "web2" {
            // The port is free again: another container takes it.
            assert_eq!(world.port_elements(), "");
        }
        env.mdrun(&[
            "run",
            "-d",
            "--name",
            name,
            "--network",
            "bridge",
            "-p",
            "8080:80",
            "busybox",
            "sleep",
            "600",
        ])
        .assert_ok();
        assert!(world.port_elements().contains("8080"), "{name}");
        if name == "web" {
            env.mdrun(&["network", "disconnect", "mdrun", "web"])
                .assert_ok();
            let out = env.mdrun(&["exec", "web", "ip", "link", "show", "eth0"]);
            assert_ne!(out.code, 0, "eth0 still there: {out}");
            assert_eq!(networks(&env, "web").as_object().map_or(0, |m| m.len()), 0);
            assert_eq!(env.mdrun(&["port", "web"]).stdout, "");
            let users = env.mdrun(&["network", "inspect", "mdrun"]).stdout;
            assert!(!users.contains("\"web\""), "{users}");
        }
    }
    // web ends: web2's port stays.
    env.mdrun(&["stop", "-t", "1", "web"]).assert_ok();
    assert!(world.port_elements().contains("8080"));
    env.mdrun(&["rm", "-f", "web", "web2"]).assert_ok();
    world.assert_no_container_traces();
    env.assert_clean();
}

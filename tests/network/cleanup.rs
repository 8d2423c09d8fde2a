//! Bad input fails with one line and leaves nothing; a SIGKILL of mdrun in the middle of
//! a container's network set-up leaves nothing after the next prune.

use crate::common::stop_point::spawn_stopped;
use crate::common::TestEnv;
use crate::world::{wait_until, World};

#[test]
fn bad_input_is_one_line_and_leaves_nothing() {
    let world = World::new();
    let env = TestEnv::new();
    world.enter(&env);
    env.mdrun(&["network", "create", "--subnet", "10.88.4.0/24", "clash"])
        .assert_one_line_error(125);
    env.mdrun(&["network", "create", "--subnet", "10.89.0.0/33", "bad"])
        .assert_one_line_error(125);
    env.mdrun(&[
        "network",
        "create",
        "--subnet",
        "10.91.0.0/24",
        "--gateway",
        "10.92.0.1",
        "bad",
    ])
    .assert_one_line_error(125);
    for args in [
        &["-p", "80:abc"][..],
        &["-p", "1-3:80-81"],
        &["-p", "8080:80/sctp"],
        &["--ip", "10.99.0.5"],
        &["--ip", "nonsense"],
        &["--ip", "10.88.0.1"],
        &["--mac-address", "zz:zz"],
        &["--network", "nosuchnet"],
        &["--network", "none", "-p", "80"],
        // A newline would add lines of its own to the container's resolv.conf.
        &["--dns-search", "example.com\nnameserver 192.0.2.66"],
        &["--dns-search", "-x.example"],
        &["--dns", "192.0.2.1\n"],
    ] {
        let mut all = vec!["--network", "bridge"];
        if args[0] == "--network" {
            all.clear();
        }
        all.extend_from_slice(args);
        all.extend_from_slice(&["busybox", "true"]);
        env.run(&all).assert_one_line_error(125);
    }
    assert_eq!(env.mdrun(&["network", "ls", "-q"]).stdout, "mdrun\n");
    world.assert_no_container_traces();
}

#[test]
fn sigkill_during_network_setup_then_prune_leaves_nothing() {
    let world = World::new();
    let env = TestEnv::new();
    world.enter(&env);
    for step in ["run:veth", "run:ports"] {
        let (running, pid) = spawn_stopped(
            &env,
            step,
            &[
                "run",
                "--rm",
                "--network",
                "bridge",
                "-p",
                "8080:80",
                "busybox",
                "true",
            ],
        );
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        let _ = running.wait();
        env.mdrun(&["prune"]).assert_ok();
        world.assert_no_container_traces();
        assert!(
            env.containers().is_empty(),
            "{step}: {:?}",
            env.containers()
        );
        env.assert_clean();
    }
}

#[test]
fn sigkill_while_the_bridge_is_made_then_the_next_run_finishes_it() {
    let world = World::new();
    let env = TestEnv::new();
    world.enter(&env);
    let (running, pid) = spawn_stopped(
        &env,
        "run:bridge",
        &["run", "--rm", "--network", "bridge", "busybox", "true"],
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let _ = running.wait();
    env.mdrun(&["prune"]).assert_ok();
    // A bridge without address or NAT was left: the next container's run finishes it.
    let out = env.run(&[
        "--network",
        "bridge",
        "busybox",
        "wget",
        "-qO-",
        &format!("http://{}/", crate::world::OUTSIDE_IP),
    ]);
    out.assert_ok();
    assert_eq!(out.stdout, crate::world::OUTSIDE_PAGE);
    world.assert_no_container_traces();
}

/// The veth of a container's earlier run may still be there when it starts again: the
/// kernel removes it with that run's namespace, later, from a work queue. A link of that
/// name in the host is deleted and made again, not an error.
#[test]
fn a_start_replaces_a_veth_its_earlier_run_left() {
    let world = World::new();
    let env = TestEnv::new();
    world.enter(&env);
    env.mdrun(&[
        "run",
        "-d",
        "--name",
        "again",
        "--network",
        "bridge",
        "busybox",
        "sleep",
        "600",
    ])
    .assert_ok();
    env.mdrun(&["stop", "-t", "1", "again"]).assert_ok();
    let out = env.mdrun(&["inspect", "again"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let id = v[0]["Id"].as_str().unwrap().to_string();
    let veth = format!("vmd{}", &id[..12]);
    wait_until("the kernel's removal of the first run's veth", || {
        world.veths().is_empty()
    });
    // What the kernel has not removed yet, as far as mdrun can tell.
    world
        .host_sh(&format!("ip link add {veth} type veth peer name stale0"))
        .assert();
    env.mdrun(&["start", "again"]).assert_ok();
    let out = env.mdrun(&["exec", "again", "wget", "-qO-", "http://192.0.2.1/"]);
    out.assert_ok();
    assert_eq!(world.veths(), [veth]);
    assert!(!world.host_links().contains(&"stale0".to_string()));
    env.mdrun(&["rm", "-f", "again"]).assert_ok();
    world.assert_no_container_traces();
}

/// SIGKILL `step` of a `run --rm -p PORT:80` in `env`'s network namespace now.
fn killed_with_port(env: &TestEnv, port: &str) {
    let publish = format!("{port}:80");
    let (running, pid) = spawn_stopped(
        env,
        "run:ports",
        &[
            "run",
            "--rm",
            "--network",
            "bridge",
            "-p",
            &publish,
            "busybox",
            "true",
        ],
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let _ = running.wait();
}

/// A container's ports live in the network namespace its run ran in; `prune` (and `rm`)
/// run from another one remove them there, and never touch the same port of a container
/// in their own. When that namespace is gone (its ports with it), only the lease is left
/// to free.
#[test]
fn prune_from_another_network_namespace_removes_ports_in_the_runs() {
    let here = World::new();
    let there = World::new();
    let env = TestEnv::new();
    // A run in `there`, killed after its port went in.
    env.enter_netns(there.host.id() as i32);
    killed_with_port(&env, "8080");
    assert!(there.port_elements().contains("8080"));
    // A live container in `here` holding the same host port.
    here.enter(&env);
    env.mdrun(&[
        "run",
        "-d",
        "--name",
        "live",
        "--network",
        "bridge",
        "-p",
        "8080:80",
        "busybox",
        "sleep",
        "600",
    ])
    .assert_ok();
    env.mdrun(&["prune"]).assert_ok();
    assert!(
        here.port_elements().contains("8080"),
        "prune removed the port of the live container in its own namespace"
    );
    there.assert_no_container_traces();
    // Another run in `there`, killed; then `there` goes, and its ports with it.
    env.enter_netns(there.host.id() as i32);
    killed_with_port(&env, "9090");
    drop(there);
    here.enter(&env);
    env.mdrun(&["prune"]).assert_ok();
    assert!(here.port_elements().contains("8080"));
    env.mdrun(&["rm", "-f", "live"]).assert_ok();
    here.assert_no_container_traces();
    env.assert_clean();
}

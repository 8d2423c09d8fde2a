//! Containers on one user network reach each other by name and by alias.

use crate::common::TestEnv;
use crate::world::World;

#[test]
fn containers_on_a_user_network_find_each_other_by_name() {
    let world = World::new();
    let env = TestEnv::new();
    world.enter(&env);
    env.mdrun(&["network", "create", "appnet"]).assert_ok();
    env.mdrun(&[
        "run",
        "-d",
        "--name",
        "db",
        "--network",
        "appnet",
        "--network-alias",
        "database",
        "busybox",
        "sleep",
        "600",
    ])
    .assert_ok();
    // A newcomer finds the one that was there...
    let out = env.run(&[
        "--network",
        "appnet",
        "--name",
        "client",
        "busybox",
        "sh",
        "-c",
        "ping -c1 db && ping -c1 database",
    ]);
    out.assert_ok();
    assert!(out.stdout.contains("from 10.89.0.2"), "{out}");
    // ... and the one that was there finds a newcomer: its hosts file is kept current.
    env.mdrun(&[
        "run",
        "-d",
        "--name",
        "app2",
        "--network",
        "appnet",
        "busybox",
        "sleep",
        "600",
    ])
    .assert_ok();
    let out = env.mdrun(&["exec", "db", "ping", "-c1", "app2"]);
    out.assert_ok();
    assert!(out.stdout.contains("from 10.89.0.3"), "{out}");
    // Gone from the hosts files once it is removed.
    env.mdrun(&["rm", "-f", "app2"]).assert_ok();
    let hosts = env.mdrun(&["exec", "db", "cat", "/etc/hosts"]).stdout;
    assert!(!hosts.contains("app2"), "{hosts}");
    // In use: refused; then removed with its bridge.
    env.mdrun(&["network", "rm", "appnet"])
        .assert_one_line_error(125);
    env.mdrun(&["rm", "-f", "db"]).assert_ok();
    env.mdrun(&["network", "rm", "appnet"]).assert_ok();
    world.assert_no_container_traces();
    assert_eq!(world.host_links(), ["lo", "ext0"]);
    assert!(!env
        .mdrun(&["network", "ls", "-q"])
        .stdout
        .contains("appnet"));
}

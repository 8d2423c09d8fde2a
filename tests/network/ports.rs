//! Published ports: from the pretend host's 127.0.0.1 and its address, from the outside
//! world; `mdrun port`; a port already taken.

use crate::common::TestEnv;
use crate::world::{wait_until, World, HOST_IP};

/// A detached web server answering `page` on its port 80.
fn web(env: &TestEnv, name: &str, extra: &[&str], page: &str) {
    let mut args = vec!["run", "-d", "--name", name, "--network", "bridge"];
    args.extend_from_slice(extra);
    let script = format!("echo {page} > /tmp/index.html; exec httpd -f -p 80 -h /tmp");
    args.extend_from_slice(&["busybox", "sh", "-c", &script]);
    env.mdrun(&args).assert_ok();
}

#[test]
fn published_port_answers_on_localhost_and_from_outside() {
    let world = World::new();
    let env = TestEnv::new();
    world.enter(&env);
    web(
        &env,
        "web",
        &["-p", "8080:80", "-p", "127.0.0.1:8081:80", "-p", "80"],
        "hi-from-web",
    );
    let get = |url: &str| format!("busybox wget -qO- {url}");
    wait_until("the container's httpd", || {
        world.host_sh(&get("http://127.0.0.1:8080/")).stdout() == "hi-from-web\n"
    });
    assert_eq!(
        world
            .host_sh(&get(&format!("http://{HOST_IP}:8080/")))
            .stdout(),
        "hi-from-web\n"
    );
    assert_eq!(
        world.host_sh(&get("http://127.0.0.1:8081/")).stdout(),
        "hi-from-web\n"
    );
    assert_eq!(
        world
            .outside_sh(&get(&format!("http://{HOST_IP}:8080/")))
            .stdout(),
        "hi-from-web\n"
    );
    // 8081 is published on 127.0.0.1 only.
    assert!(!world
        .outside_sh(&get(&format!("http://{HOST_IP}:8081/")))
        .ok());
    let out = env.mdrun(&["port", "web"]);
    out.assert_ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "80/tcp -> 0.0.0.0:8080");
    assert_eq!(lines[1], "80/tcp -> 127.0.0.1:8081");
    // inspect's NetworkSettings, in docker's shape.
    let out = env.mdrun(&["inspect", "web"]);
    out.assert_ok();
    let c: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let ns = &c[0]["NetworkSettings"];
    assert!(
        ns["IPAddress"].as_str().unwrap().starts_with("10.88."),
        "{ns}"
    );
    assert_eq!(ns["Networks"]["mdrun"]["Gateway"], "10.88.0.1", "{ns}");
    assert_eq!(ns["Ports"]["80/tcp"][0]["HostPort"], "8080", "{ns}");
    assert_eq!(ns["Ports"]["80/tcp"][1]["HostIp"], "127.0.0.1", "{ns}");
    let free: u16 = lines[2].rsplit(':').next().unwrap().parse().unwrap();
    assert!(
        free > 0 && lines[2].starts_with("80/tcp -> 0.0.0.0:"),
        "{lines:?}"
    );
    assert_eq!(
        world
            .host_sh(&get(&format!("http://127.0.0.1:{free}/")))
            .stdout(),
        "hi-from-web\n"
    );

    // Taken by this container: the next one fails with one line, and leaves nothing.
    let out = env.run(&["--network", "bridge", "-p", "8080:80", "busybox", "true"]);
    out.assert_one_line_error(125);
    assert!(out.stderr.contains("already"), "{out}");
    env.mdrun(&["rm", "-f", "web"]).assert_ok();
    world.assert_no_container_traces();
}

#[test]
fn a_port_a_host_process_holds_is_refused() {
    let world = World::new();
    let env = TestEnv::new();
    world.enter(&env);
    let nc = std::process::Command::new("nsenter")
        .args([
            "-t",
            &world.host.id().to_string(),
            "-n",
            "busybox",
            "nc",
            "-l",
            "-p",
            "9090",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut nc = scopeguard(nc);
    wait_until("nc listening", || {
        world
            .host_sh("busybox netstat -lnt | grep -q ':9090 '")
            .ok()
    });
    let out = env.run(&["--network", "bridge", "-p", "9090:80", "busybox", "true"]);
    out.assert_one_line_error(125);
    assert!(out.stderr.contains("9090 is already in use"), "{out}");
    let _ = nc.0.kill();
    world.assert_no_container_traces();
}

struct Guard(std::process::Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
fn scopeguard(c: std::process::Child) -> Guard {
    Guard(c)
}

#[test]
fn ports_and_network_from_a_container_file() {
    let world = World::new();
    let env = TestEnv::new();
    world.enter(&env);
    let file = env.path("web.toml");
    std::fs::write(
        &file,
        "image = \"busybox\"\nnetwork = \"bridge\"\nports = [\"8082:80\"]\n\
         command = \"echo from-toml > /tmp/index.html; exec httpd -f -p 80 -h /tmp\"\n",
    )
    .unwrap();
    env.mdrun(&[
        "run",
        "-d",
        "--name",
        "tomlweb",
        "--config",
        file.to_str().unwrap(),
    ])
    .assert_ok();
    wait_until("the container's httpd", || {
        world
            .host_sh("busybox wget -qO- http://127.0.0.1:8082/")
            .stdout()
            == "from-toml\n"
    });
    assert_eq!(
        env.mdrun(&["port", "tomlweb"]).stdout,
        "80/tcp -> 0.0.0.0:8082\n"
    );
    env.mdrun(&["rm", "-f", "tomlweb"]).assert_ok();
    world.assert_no_container_traces();
}

#[test]
fn publish_all_puts_the_images_exposed_ports_on_free_host_ports() {
    use crate::common::oci_layout::{self, layer, Comp, Image};
    let world = World::new();
    let env = TestEnv::new();
    world.enter(&env);
    let image = Image {
        layers: vec![layer(
            &std::fs::read(crate::common::busybox_tarball()).unwrap(),
            Comp::Plain,
        )],
        run: serde_json::json!({"Cmd": ["sh"], "ExposedPorts": {"80/tcp": {}, "53/udp": {}}}),
        arch: "amd64",
    };
    let dir = env.path("layout");
    oci_layout::write_single(&dir, &image, "exposing:1");
    let archive = env.path("exposing.tar");
    let tar = std::process::Command::new("tar")
        .args([
            "-cf",
            archive.to_str().unwrap(),
            "-C",
            dir.to_str().unwrap(),
            ".",
        ])
        .status()
        .unwrap();
    assert!(tar.success());
    env.mdrun(&["load", "-i", archive.to_str().unwrap()])
        .assert_ok();
    let images = env.mdrun(&["images"]).stdout;
    assert!(images.contains("exposing"), "{images}");
    let name = "exposing:1";
    let script = "echo exposed > /tmp/index.html; exec httpd -f -p 80 -h /tmp";
    env.mdrun(&[
        "run",
        "-d",
        "--name",
        "pall",
        "--network",
        "bridge",
        "-P",
        name,
        "sh",
        "-c",
        script,
    ])
    .assert_ok();
    let out = env.mdrun(&["port", "pall"]);
    out.assert_ok();
    let mut lines: Vec<&str> = out.stdout.lines().collect();
    lines.sort();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    assert!(lines[0].starts_with("53/udp -> 0.0.0.0:"), "{lines:?}");
    assert!(lines[1].starts_with("80/tcp -> 0.0.0.0:"), "{lines:?}");
    let port = lines[1].rsplit(':').next().unwrap().to_string();
    wait_until("the container's httpd", || {
        world
            .host_sh(&format!("busybox wget -qO- http://127.0.0.1:{port}/"))
            .stdout()
            == "exposed\n"
    });
    env.mdrun(&["rm", "-f", "pall"]).assert_ok();
    world.assert_no_container_traces();
}

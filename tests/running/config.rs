//! `mdrun run --config FILE`: a container described in TOML, overridden by flags; and the
//! global MDRUN_CONFIG file.

use crate::common::*;
use std::fs;
use std::time::{Duration, Instant};

fn read(path: &std::path::Path) -> String {
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .trim()
        .to_string()
}

/// A web.toml using every key, with the host volume under the scenario's directory.
fn web_toml(env: &TestEnv, command: &str) -> std::path::PathBuf {
    let data = env.path("site");
    fs::create_dir_all(&data).unwrap();
    fs::write(data.join("index.html"), "hello\n").unwrap();
    let text = format!(
        r#"# a container
image = "busybox:latest"
command = {command}
hostname = "web"
workdir = "/www"
volumes = [
    "{}:/www:ro",
    "web-logs:/logs",
]

[env]
GREETING = "hello from mdrun"
PORT = 8080

[limits]
memory = "64m"
pids_limit = 64
cpu_shares = 512
"#,
        data.display()
    );
    let file = env.path("web.toml");
    fs::write(&file, text).unwrap();
    file
}

#[test]
fn config_file_sets_image_command_env_volumes_and_limits() {
    let env = TestEnv::new();
    let script = r#"["sh", "-c", "hostname; pwd; cat index.html; echo $GREETING $PORT; echo log > /logs/l; touch /www/x 2>/dev/null || echo ro; sleep 1"]"#;
    let file = web_toml(&env, script);
    let running = env.spawn(&["--config", file.to_str().unwrap()]);
    let memory = env.container_cgroup("memory");
    assert_eq!(
        read(&memory.join("memory.limit_in_bytes")),
        (64u64 << 20).to_string()
    );
    assert_eq!(read(&env.container_cgroup("pids").join("pids.max")), "64");
    assert_eq!(read(&env.container_cgroup("cpu").join("cpu.shares")), "512");
    let out = running.wait();
    out.assert_ok();
    assert_eq!(
        out.stdout, "web\n/www\nhello\nhello from mdrun 8080\nro\n",
        "{out}"
    );
    assert_eq!(
        fs::read_to_string(env.root.join("volumes/web-logs/l")).unwrap(),
        "log\n"
    );
    env.assert_clean();
}

#[test]
fn flags_override_the_config_file() {
    let env = TestEnv::new();
    let file = web_toml(&env, r#""echo from-file""#);
    let f = file.to_str().unwrap();
    // The command on the command line replaces the file's.
    let out = env.run(&[
        "--config",
        f,
        "busybox",
        "sh",
        "-c",
        "echo $GREETING; hostname; pwd",
    ]);
    out.assert_ok();
    assert_eq!(out.stdout, "hello from mdrun\nweb\n/www\n", "{out}");
    // Flags replace single values; -e adds to (and overrides) the file's environment.
    let out = env.run(&[
        "--config",
        f,
        "-h",
        "flag",
        "-w",
        "/tmp",
        "-e",
        "PORT=9",
        "busybox",
        "sh",
        "-c",
        "hostname; pwd; echo $GREETING $PORT",
    ]);
    out.assert_ok();
    assert_eq!(out.stdout, "flag\n/tmp\nhello from mdrun 9\n", "{out}");
    // A limit flag overrides the file's limit.
    let running = env.spawn(&["--config", f, "--memory", "32m", "busybox", "sleep", "1"]);
    let memory = env.container_cgroup("memory");
    assert_eq!(
        read(&memory.join("memory.limit_in_bytes")),
        (32u64 << 20).to_string()
    );
    running.wait().assert_ok();
    // The image may come from the file alone: no IMAGE argument.
    let out = env.run(&["--config", f]);
    out.assert_ok();
    assert_eq!(out.stdout, "from-file\n", "{out}");
    env.assert_clean();
}

#[test]
fn bad_key_names_file_line_and_key() {
    let env = TestEnv::new();
    let file = env.path("web.toml");
    fs::write(
        &file,
        "# web\nimage = \"busybox\"\n\n[limits]\nmemroy = \"1g\"\n",
    )
    .unwrap();
    let out = env.run(&["--config", file.to_str().unwrap()]);
    out.assert_mdrun_error();
    let expected = format!("{}:5", file.display());
    assert!(
        out.stderr.contains(&expected) || out.stderr.contains("web.toml:5"),
        "{out}"
    );
    assert!(out.stderr.contains("memroy"), "{out}");
    env.assert_clean();
}

#[test]
fn bad_value_names_file_line_and_key() {
    let env = TestEnv::new();
    let file = env.path("web.toml");
    fs::write(&file, "image = \"busybox\"\n[limits]\nmemory = \"12q\"\n").unwrap();
    let out = env.run(&["--config", file.to_str().unwrap()]);
    out.assert_mdrun_error();
    assert!(
        out.stderr.contains("web.toml:3") && out.stderr.contains("limits.memory"),
        "{out}"
    );
    fs::write(&file, "image = \"busybox\"\ncommand = [\"ls\"\n").unwrap();
    env.run(&["--config", file.to_str().unwrap()])
        .assert_mdrun_error();
    env.assert_clean();
}

#[test]
fn bad_global_config_is_refused_with_its_line() {
    let env = TestEnv::new();
    let mut text = read(&env.config);
    text.push_str("\nrot = \"/x\"\n");
    let bad = env.path("bad-global.toml");
    fs::write(&bad, &text).unwrap();
    let out = env
        .cmd(&["run", "--rm", "busybox", "true"])
        .env("MDRUN_CONFIG", &bad)
        .run();
    out.assert_mdrun_error();
    assert!(
        out.stderr.contains("rot") && out.stderr.contains("bad-global.toml:"),
        "{out}"
    );
    env.assert_clean();
}

#[test]
fn global_config_decides_where_state_goes() {
    let env = TestEnv::new();
    let running = env.spawn(&["busybox", "sleep", "2"]);
    env.container_cgroup("memory");
    // While it runs, its runtime state is under run_root and its data under root.
    let deadline = Instant::now() + Duration::from_secs(5);
    while files::names(&env.run_root)
        .iter()
        .all(|n| !env.run_root.join(n).is_dir())
    {
        assert!(
            Instant::now() < deadline,
            "nothing under run_root {}",
            env.run_root.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        env.containers().len(),
        1,
        "no record under {}",
        env.root.display()
    );
    running.wait().assert_ok();
    env.assert_clean();
}

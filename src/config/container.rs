//! A container described in TOML (`mdrun run --config web.toml`).

use std::path::{Path, PathBuf};

use toml::de::DeValue;

use super::field::{Doc, Field};
use super::{limits, ConfigError, ValueProblem};
use crate::parse;
use crate::spec::{Limits, VolumeSpec};

const KEYS: &[&str] = &[
    "image", "command", "name", "hostname", "workdir", "env", "volumes", "limits", "restart",
    "network", "ports",
];
const PORTS: &str = "an array of \"[hostIP:][hostPort:]containerPort[/tcp|udp]\" strings";

const COMMAND: &str = "an array of strings, or a string for sh -c";
const ENV: &str = "a table of NAME = \"value\", or an array of \"NAME=value\" strings";
const VOLUMES: &str = "an array of \"SOURCE:DESTINATION[:ro|rw]\" strings";

/// A container described in TOML (`mdrun run --config web.toml`). Every field optional;
/// command-line flags override it. Values are already validated by `crate::parse`.
#[derive(Debug, Clone, Default)]
pub struct ContainerConfig {
    pub image: Option<String>,
    pub command: Option<Vec<String>>,
    pub env: Vec<(String, String)>,
    pub volumes: Vec<VolumeSpec>,
    pub limits: Limits,
    pub hostname: Option<String>,
    pub name: Option<String>,
    pub workdir: Option<PathBuf>,
    /// `restart = "on-failure:3"`, as `--restart`.
    pub restart: Option<crate::policy::RestartPolicy>,
    /// `network = "bridge"`: none, host, bridge, a network's name, container:NAME.
    pub network: Option<String>,
    /// `ports = ["8080:80"]`, as `-p`.
    pub ports: Vec<crate::network::PortMap>,
}

/// Read and validate a container file; cpus are checked against this host's CPUs.
pub fn load_container(path: &Path) -> Result<ContainerConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_container(path, &text, parse::host_cpus())
}

/// Validate the text of container file `file` (named in errors).
pub fn parse_container(
    file: &Path,
    text: &str,
    host_cpus: usize,
) -> Result<ContainerConfig, ConfigError> {
    let doc = Doc::new(file, text);
    let table = doc.parse()?;
    let mut config = ContainerConfig::default();
    for f in doc.fields(&table, "", KEYS)? {
        match f.name {
            "image" => {
                let image = f.text()?;
                f.check(parse::image_ref(&image))?;
                config.image = Some(image);
            }
            "command" => config.command = Some(command(&f)?),
            "name" => {
                let name = f.text()?;
                f.check(parse::name(&name))?;
                config.name = Some(name);
            }
            "hostname" => {
                let hostname = f.text()?;
                f.check(parse::hostname(&hostname))?;
                config.hostname = Some(hostname);
            }
            "workdir" => config.workdir = Some(f.abs_path()?),
            "env" => config.env = env(&doc, &f)?,
            "volumes" => {
                for v in f.elements(VOLUMES)? {
                    config.volumes.push(v.check(parse::volume(v.str()?))?);
                }
            }
            "restart" => {
                let policy = crate::policy::RestartPolicy::parse(&f.text()?)
                    .map_err(|e| f.problem(ValueProblem::RestartPolicy(e)))?;
                config.restart = Some(policy);
            }
            "limits" => config.limits = limits::read(&doc, &f, limits::CONTAINER_KEYS, host_cpus)?,
            "network" => {
                let n = f.text()?;
                crate::network::Mode::parse(&n)
                    .map_err(|e| f.problem(ValueProblem::Network(e.to_string())))?;
                config.network = Some(n);
            }
            "ports" => {
                for v in f.elements(PORTS)? {
                    let ports = crate::network::ports::parse(v.str()?)
                        .map_err(|e| v.problem(ValueProblem::Network(e)))?;
                    config.ports.extend(ports);
                }
            }
            other => unreachable!("Doc::fields let through {other:?}"),
        }
    }
    Ok(config)
}

/// `["nginx", "-g", "daemon off;"]` as is; a string runs through `sh -c`.
fn command(f: &Field<'_, '_>) -> Result<Vec<String>, ConfigError> {
    if let DeValue::String(_) = f.value {
        return Ok(vec!["sh".into(), "-c".into(), f.text()?]);
    }
    let args = f.elements(COMMAND)?;
    if args.is_empty() {
        return Err(f.problem(ValueProblem::Empty));
    }
    let mut argv = Vec::with_capacity(args.len());
    for arg in args {
        let s = arg.str()?;
        // Empty arguments are fine (`sh -c ""`); NUL cannot reach execve.
        if s.contains('\0') {
            return Err(arg.problem(ValueProblem::Nul));
        }
        argv.push(s.to_string());
    }
    Ok(argv)
}

/// `env = { FOO = "bar" }` (scalars become their text) or `env = ["FOO=bar", "HOME"]`
/// (a bare name is taken from mdrun's environment, as `-e NAME` is).
fn env(doc: &Doc<'_>, f: &Field<'_, '_>) -> Result<Vec<(String, String)>, ConfigError> {
    let mut pairs = Vec::new();
    match f.value {
        DeValue::Table(table) => {
            for entry in doc.entries(table, &f.key) {
                let value = match entry.value {
                    DeValue::String(s) => s.to_string(),
                    DeValue::Integer(_) => entry.int()?.to_string(),
                    DeValue::Float(x) => x.as_str().to_string(),
                    DeValue::Boolean(b) => b.to_string(),
                    _ => return Err(entry.wrong_type("a string, number or boolean")),
                };
                if entry.name.contains('=') {
                    return Err(entry.problem(ValueProblem::KeyWithEquals(entry.name.into())));
                }
                pairs.extend(entry.check(parse::env_pair(&format!("{}={value}", entry.name)))?);
            }
        }
        DeValue::Array(_) => {
            for entry in f.elements(ENV)? {
                pairs.extend(entry.check(parse::env_pair(entry.str()?))?);
            }
        }
        _ => return Err(f.wrong_type(ENV)),
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::VolumeSource;

    fn parse(text: &str) -> Result<ContainerConfig, ConfigError> {
        parse_container(Path::new("web.toml"), text, 2)
    }

    fn message(text: &str) -> String {
        match parse(text) {
            Ok(config) => panic!("{text:?} was accepted: {config:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn shipped_example_parses() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config/web.toml"));
        let config = load_container(path).unwrap();
        assert_eq!(config.image.as_deref(), Some("busybox:latest"));
        let argv = ["httpd", "-f", "-v", "-p", "8080", "-h", "/www"];
        assert_eq!(config.command, Some(argv.map(String::from).to_vec()));
        assert_eq!(config.name.as_deref(), Some("web"));
        assert_eq!(config.hostname.as_deref(), Some("web"));
        assert_eq!(config.workdir, Some(PathBuf::from("/www")));
        let env = [("GREETING", "hello from mdrun"), ("PORT", "8080")];
        assert_eq!(
            config.env,
            env.map(|(k, v)| (k.to_string(), v.to_string())).to_vec()
        );
        assert_eq!(config.volumes.len(), 2);
        assert_eq!(
            config.volumes[0].source,
            VolumeSource::Host("/srv/web".into())
        );
        assert!(config.volumes[0].read_only);
        assert_eq!(
            config.volumes[1].source,
            VolumeSource::Named("web-logs".into())
        );
        let limits = Limits {
            memory: Some(64 << 20),
            memory_swap: Some(128 << 20),
            cpu_quota: Some(50_000),
            cpu_period: Some(100_000),
            cpu_shares: Some(512),
            cpuset_cpus: Some("0".into()),
            pids_limit: Some(64),
            ..Default::default()
        };
        assert_eq!(config.limits, limits);
    }

    #[test]
    fn restart_policy_key() {
        let config = parse("restart = \"on-failure:3\"\n").unwrap();
        assert_eq!(config.restart.unwrap().display(), "on-failure:3");
        let e = message("restart = \"sometimes\"\n");
        assert!(e.contains("web.toml") && e.contains("restart"), "{e}");
    }

    #[test]
    fn other_accepted_forms() {
        let config = parse(
            "command = \"echo $HOME\"\nenv = [\"A=1\", \"MDRUN_TEST_UNSET_7f3a9c\"]\n\
             limits.memory = 8388608\nlimits.cpus = \"2\"\nlimits.memory_swap = -1\n",
        )
        .unwrap();
        let sh = ["sh", "-c", "echo $HOME"].map(String::from).to_vec();
        assert_eq!(config.command, Some(sh));
        assert_eq!(config.env, vec![("A".to_string(), "1".to_string())]);
        assert_eq!(config.limits.memory, Some(8 << 20));
        assert_eq!(config.limits.cpu_quota, Some(200_000));
        assert_eq!(config.limits.memory_swap, Some(-1));
        assert!(parse("").unwrap().limits.is_empty());
    }

    #[test]
    fn unknown_keys_are_named_with_their_line() {
        assert_eq!(
            message("# web\n\nimgae = \"busybox\"\n"),
            "web.toml:3: unknown key \"imgae\" (expected one of image, command, name, hostname, \
             workdir, env, volumes, limits, restart, network, ports)"
        );
        assert_eq!(
            message("image = \"busybox\"\n[limits]\nmemroy = \"1g\"\n"),
            "web.toml:3: unknown key \"limits.memroy\" (expected one of memory, memory_swap, \
             cpus, cpu_shares, cpuset_cpus, pids_limit)"
        );
    }

    #[test]
    fn bad_values_name_file_line_and_key() {
        let text = "image = \"busybox\"\n\n[limits]\n# the limit\n\ncpus = 1\nmemory = \"12q\"\n";
        assert_eq!(
            message(text),
            "web.toml:7: limits.memory: invalid memory size \"12q\": unknown unit \"q\" \
             (use b, k, m, g)"
        );
        let cases = [
            ("image = \"busy box\"", "web.toml:1: image: invalid image reference \"busy box\": contains whitespace or a control character"),
            ("image = \"\"", "web.toml:1: image: must not be empty"),
            ("name = \"a/b\"", "web.toml:1: name: invalid container name \"a/b\": '/' is not allowed (use letters, digits and _.-)"),
            ("hostname = \"web_1\"", "web.toml:1: hostname: invalid hostname \"web_1\": '_' is not allowed (use letters, digits and .-)"),
            ("workdir = \"www\"", "web.toml:1: workdir: \"www\" is not an absolute path"),
            ("command = []", "web.toml:1: command: must not be empty"),
            ("env = [\"A B=1\"]", "web.toml:1: env[0]: invalid environment variable \"A B=1\": the variable name \"A B\" contains whitespace"),
            ("env = { \"A=B\" = \"1\" }", "web.toml:1: env.A=B: the variable name \"A=B\" contains '='"),
            ("volumes = [\n  \"/a:/a\",\n  \"./x:/data\",\n]", "web.toml:3: volumes[1]: invalid volume \"./x:/data\": host path must be absolute"),
            ("limits.cpus = 4", "web.toml:1: limits.cpus: --cpus 4: the host has only 2 CPUs"),
            ("limits.cpus = 0.0", "web.toml:1: limits.cpus: invalid --cpus \"0.0\": must be greater than 0"),
            ("limits.cpuset_cpus = \"0-2\"", "web.toml:1: limits.cpuset_cpus: invalid --cpuset-cpus \"0-2\": CPU 2 does not exist (the host has CPUs 0-1)"),
            ("limits.cpu_shares = 1", "web.toml:1: limits.cpu_shares: 1 is out of range (2 to 262144)"),
            ("limits.pids_limit = 0", "web.toml:1: limits.pids_limit: 0 is neither a positive number nor -1 (no limit)"),
            ("limits.memory = 0", "web.toml:1: limits.memory: invalid memory size \"0\": must be greater than 0"),
            ("limits.memory = 5", "web.toml:1: limits.memory: memory limit \"5\" is below the minimum allowed, 6MB"),
            ("limits.memory_swap = \"-2\"", "web.toml:1: limits.memory_swap: invalid memory size \"-2\": must not be negative (except -1, for unlimited swap)"),
            ("[limits]\nmemory_swap = \"1g\"\nmemory = \"2g\"", "web.toml:2: limits.memory_swap: 1073741824 is less than limits.memory (2147483648); memory_swap counts memory plus swap"),
        ];
        for (text, expected) in cases {
            assert_eq!(message(text), expected, "for {text:?}");
        }
    }

    #[test]
    fn wrong_types_say_what_was_expected() {
        let cases = [
            ("image = 1", "web.toml:1: image: expected a string, found integer"),
            ("command = 5", "web.toml:1: command: expected an array of strings, or a string for sh -c, found integer"),
            ("command = [\"ls\", 1]", "web.toml:1: command[1]: expected a string, found integer"),
            ("env = \"A=1\"", "web.toml:1: env: expected a table of NAME = \"value\", or an array of \"NAME=value\" strings, found string"),
            ("env = { A = [1] }", "web.toml:1: env.A: expected a string, number or boolean, found array"),
            ("volumes = \"/a:/b\"", "web.toml:1: volumes: expected an array of \"SOURCE:DESTINATION[:ro|rw]\" strings, found string"),
            ("limits = 5", "web.toml:1: limits: expected a table, found integer"),
            ("limits.memory = true", "web.toml:1: limits.memory: expected a size like \"100m\" or a number of bytes, found boolean"),
            ("limits.memory = 1.5", "web.toml:1: limits.memory: expected a size like \"100m\" or a number of bytes, found float"),
            ("limits.pids_limit = \"10\"", "web.toml:1: limits.pids_limit: expected an integer, found string"),
        ];
        for (text, expected) in cases {
            assert_eq!(message(text), expected, "for {text:?}");
        }
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let err = parse("image = \"busybox\"\n\ncommand = [\"ls\"\n").unwrap_err();
        assert!(
            matches!(err, ConfigError::Syntax { line: 3, .. }),
            "{err:?}"
        );
        assert_eq!(
            message("image = \"a\"\nimage = \"b\"\n"),
            "web.toml:2: duplicate key \"image\""
        );
        assert_eq!(
            message("[limits\n"),
            "web.toml:1: unclosed table, expected `]`"
        );
    }

    #[test]
    fn unreadable_file_names_the_path() {
        let err = load_container(Path::new("/nonexistent/web.toml")).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }), "{err:?}");
        assert!(
            err.to_string().starts_with("read /nonexistent/web.toml: "),
            "{err}"
        );
    }
}

//! `mdrun run`: create a container and start it, attached (default) or detached (`-d`).
//!
//! Here `run`'s flags, its `--config FILE` and the global defaults become one validated
//! ContainerSpec, and its image is resolved: bad input fails before any side effect. Then
//! `container::create` claims the name and records the container, and
//! `container::run_attached` or `run_detached` starts it.

use crate::cli::{LimitArgs, RunArgs};
use crate::config::{self, GlobalConfig};
use crate::container;
use crate::error::{Error, Result};
use crate::image::Store;
use crate::parse;
use crate::paths::Paths;
use crate::placement;
use crate::policy::{HealthArgs, HealthConfig, RestartPolicy};
use crate::spec::{ContainerSpec, Limits};
use crate::state::CgroupManager;
use std::io::IsTerminal;
use std::path::PathBuf;

pub fn run(args: &RunArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let mut spec = spec(args, &global)?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    let store = Store::new(paths.clone());
    let image = container::image_for_run(
        &store,
        &spec.image,
        &args.pull,
        &crate::registry::Options::from(&args.registry),
    )?;
    if spec.stop_signal.is_none() {
        spec.stop_signal = image.config.stop_signal.clone();
    }
    spec.healthcheck = HealthConfig::resolve(image.config.healthcheck.as_ref(), &health_args(args))
        .map_err(Error::Usage)?;
    let (manager, warning) = placement::choose(spec.cgroup_manager, &global);
    if let Some(w) = warning {
        eprintln!("mdrun: {w}");
    }
    if spec.restart.supervised() && manager != CgroupManager::Systemd {
        return Err(Error::Usage(
            "restart policies need systemd: --restart cannot be used with the cgroupfs manager"
                .into(),
        ));
    }
    let prepared = container::create(&paths, &global, &spec, &store, &image, manager)?;
    if spec.detach && spec.restart.supervised() {
        let id = prepared.record.id.clone();
        container::start_supervised_new(&paths, prepared)?;
        println!("{id}");
        Ok(0)
    } else if spec.detach {
        let id = prepared.record.id.clone();
        container::run_detached(prepared)?;
        println!("{id}");
        Ok(0)
    } else {
        container::run_attached(prepared)
    }
}

/// `--health-*` and `--no-healthcheck` as given.
fn health_args(args: &RunArgs) -> HealthArgs<'_> {
    HealthArgs {
        cmd: args.health_cmd.as_deref(),
        interval: args.health_interval.as_deref(),
        timeout: args.health_timeout.as_deref(),
        start_period: args.health_start_period.as_deref(),
        retries: args.health_retries,
        none: args.no_healthcheck,
    }
}

/// The validated request: flags over the file over the global defaults.
fn spec(args: &RunArgs, global: &GlobalConfig) -> Result<ContainerSpec> {
    let file = match &args.config {
        Some(p) => config::load_container(p)?,
        None => config::ContainerConfig::default(),
    };
    let image = args.image.clone().or(file.image.clone()).ok_or_else(|| {
        Error::Usage("no image given (mdrun run [OPTIONS] IMAGE [COMMAND...])".into())
    })?;
    let command = if args.command.is_empty() {
        file.command.clone().unwrap_or_default()
    } else {
        args.command.clone()
    };

    let mut env = file.env.clone();
    for f in &args.env_file {
        env.extend(parse::env_file(f)?);
    }
    for e in &args.env {
        if let Some(kv) = parse::env_pair(e)? {
            env.push(kv);
        }
    }

    let mut volumes = file.volumes.clone();
    for v in &args.volumes {
        volumes.push(parse::volume(v)?);
    }

    let name = args.name.clone().or(file.name.clone());
    if let Some(n) = &name {
        parse::name(n)?;
    }
    let hostname = args.hostname.clone().or(file.hostname.clone());
    if let Some(h) = &hostname {
        parse::hostname(h)?;
    }
    let workdir = args
        .workdir
        .clone()
        .map(PathBuf::from)
        .or(file.workdir.clone());
    if let Some(w) = &workdir {
        if !w.is_absolute() {
            return Err(Error::Usage(format!(
                "the working directory {} is not an absolute path",
                crate::quote::quoted(w)
            )));
        }
    }

    let limits = limits(args, &file.limits, &global.default_limits)?;

    // Docker's defaults for a terminal: with neither -t nor -i, a terminal on stdin means -it;
    // otherwise stdin is passed through (so `echo hi | mdrun busybox cat` works).
    let (tty, interactive) = if args.detach {
        (args.tty, false)
    } else if !args.tty && !args.interactive {
        let term = std::io::stdin().is_terminal();
        (term && std::io::stdout().is_terminal(), true)
    } else {
        (args.tty, args.interactive)
    };
    if args.detach && args.interactive {
        return Err(Error::Usage(
            "-d and -i cannot be used together (a detached container has no stdin)".into(),
        ));
    }
    if args.detach && args.rm {
        // As docker: allowed; the supervisor removes it when it exits.
    }

    if let Some(sig) = &args.stop_signal {
        parse::signal(sig)?;
    }
    let restart = match &args.restart {
        Some(r) => RestartPolicy::parse(r).map_err(Error::Usage)?,
        None => file.restart.unwrap_or_default(),
    };
    if restart.supervised() && args.rm {
        return Err(Error::Usage(
            format!(
                "the restart policy {} and --rm conflict: a container removed when it ends cannot be restarted",
                restart.display()
            ),
        ));
    }
    if restart.supervised() && !args.detach {
        return Err(Error::Usage(format!(
            "the restart policy {} needs -d: systemd supervises the container in the background",
            restart.display()
        )));
    }
    let network = network_spec(&args.net, &file, global)?;
    Ok(ContainerSpec {
        network,
        image,
        command,
        entrypoint: args.entrypoint.clone(),
        stop_signal: args.stop_signal.clone(),
        env,
        workdir,
        hostname,
        name,
        volumes,
        limits,
        tty,
        interactive,
        remove: args.rm,
        detach: args.detach,
        cgroup_parent: args.cgroup_parent.clone().or(global.cgroup_parent.clone()),
        cgroup_manager: args.cgroup_manager,
        log_driver: args.log_driver,
        sdnotify_container: args.sdnotify.as_deref() == Some("container"),
        stop_timeout: args.stop_timeout,
        restart,
        healthcheck: None,
        security: crate::security::parse_options(&crate::security::SecurityArgs {
            privileged: args.privileged,
            cap_add: &args.cap_add,
            cap_drop: &args.cap_drop,
            security_opt: &args.security_opt,
            read_only: args.read_only,
            tmpfs: &args.tmpfs,
            user: args.user.as_deref(),
        })?,
    })
}

/// `--network`, `-p` ... over the file's `network` and `ports` over the global `network`.
fn network_spec(
    args: &crate::cli::NetArgs,
    file: &config::ContainerConfig,
    global: &GlobalConfig,
) -> Result<crate::network::NetworkSpec> {
    let mut ports = file.ports.clone();
    for p in &args.publish {
        ports.extend(crate::network::ports::parse(p).map_err(Error::Usage)?);
    }
    let ip =
        match &args.ip {
            Some(s) => Some(s.parse().map_err(|_| {
                Error::Usage(format!("invalid --ip {s:?} (expected an IPv4 address)"))
            })?),
            None => None,
        };
    let mut add_hosts = Vec::new();
    for h in &args.add_host {
        let (name, addr) = h
            .split_once(':')
            .ok_or_else(|| Error::Usage(format!("invalid --add-host {h:?} (expected NAME:IP)")))?;
        parse::hostname(name)?;
        addr.parse::<std::net::IpAddr>()
            .map_err(|_| Error::Usage(format!("invalid --add-host {h:?}: bad address {addr:?}")))?;
        add_hosts.push((name.to_string(), addr.to_string()));
    }
    for d in &args.dns {
        d.parse::<std::net::IpAddr>()
            .map_err(|_| Error::Usage(format!("invalid --dns {d:?} (expected an IP address)")))?;
    }
    let spec = crate::network::NetworkSpec {
        mode: args
            .network
            .clone()
            .or(file.network.clone())
            .unwrap_or_else(|| global.network.clone()),
        ports,
        publish_all: args.publish_all,
        dns: args.dns.clone(),
        dns_search: args.dns_search.clone(),
        add_hosts,
        ip,
        mac: args.mac_address.clone(),
        aliases: args.network_alias.clone(),
    };
    crate::network::validate(&spec)?;
    Ok(spec)
}

/// Flags over the file over the global defaults, each validated.
fn limits(args: &RunArgs, file: &Limits, defaults: &Limits) -> Result<Limits> {
    let mut l = defaults.clone();
    merge(&mut l, file);
    apply_flags(&mut l, &args.limits)?;
    if let (Some(mem), Some(swap)) = (l.memory, l.memory_swap) {
        if swap != -1 && (swap as u64) < mem {
            return Err(Error::Usage(
                "--memory-swap must be at least --memory (or -1 for unlimited)".into(),
            ));
        }
    }
    if l.memory_swap.is_some() && l.memory.is_none() {
        return Err(Error::Usage("--memory-swap needs --memory as well".into()));
    }
    Ok(l)
}

fn merge(into: &mut Limits, over: &Limits) {
    macro_rules! take {
        ($($f:ident),*) => { $( if over.$f.is_some() { into.$f = over.$f.clone(); } )* };
    }
    take!(
        memory,
        memory_swap,
        cpu_quota,
        cpu_period,
        cpu_shares,
        cpuset_cpus,
        pids_limit
    );
}

/// Each flag given, parsed and checked, over `l`.
pub(super) fn apply_flags(l: &mut Limits, f: &LimitArgs) -> Result<()> {
    if let Some(m) = f.memory.as_deref() {
        l.memory = Some(parse::memory(m)?);
    }
    if let Some(s) = f.memory_swap.as_deref() {
        l.memory_swap = Some(parse::memory_swap(s)?);
    }
    if let Some(c) = f.cpus.as_deref() {
        let (quota, period) = parse::cpus(c, parse::host_cpus())?;
        l.cpu_quota = Some(quota);
        l.cpu_period = Some(period);
    }
    if let Some(s) = f.cpu_shares {
        if !(2..=262144).contains(&s) {
            return Err(Error::Usage(format!(
                "--cpu-shares {s}: must be between 2 and 262144"
            )));
        }
        l.cpu_shares = Some(s);
    }
    if let Some(c) = f.cpuset_cpus.as_deref() {
        l.cpuset_cpus = Some(parse::cpuset(c, parse::host_cpus())?);
    }
    if let Some(p) = f.pids_limit {
        if p == 0 || p < -1 {
            return Err(Error::Usage(format!(
                "--pids-limit {p}: must be positive, or -1 for unlimited"
            )));
        }
        l.pids_limit = Some(p);
    }
    Ok(())
}

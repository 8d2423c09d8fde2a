//! `linux.resources` written into the container's cgroup directories (`create`), and the
//! `update` verb that writes them again.

use super::state::Saved;
use super::Result;
use crate::cli::oci_args::UpdateArgs;
use oci_spec::runtime::LinuxResources;
use std::path::{Path, PathBuf};

/// Write `value` to the first of `dirs` that has `file`.
fn put(dirs: &[PathBuf], file: &str, value: impl ToString) -> Result<()> {
    let value = value.to_string();
    let Some(dir) = dirs.iter().find(|d| d.join(file).exists()) else {
        return Err(format!(
            "cgroup file {file} does not exist in the container's cgroups (controller not available)"
        ));
    };
    std::fs::write(dir.join(file), &value)
        .map_err(|e| format!("write {value:?} to {}: {e}", dir.join(file).display()))
}

/// One cgroup2 directory: a pure v2 host (a hybrid one has the v1 hierarchies too).
pub fn is_v2(dirs: &[PathBuf]) -> bool {
    dirs.len() == 1 && dirs[0].join("cgroup.controllers").exists()
}

pub fn apply(dirs: &[PathBuf], r: &LinuxResources) -> Result<()> {
    if is_v2(dirs) {
        return apply_v2(dirs, r);
    }
    if let Some(m) = r.memory() {
        if let Some(v) = m.limit() {
            put(dirs, "memory.limit_in_bytes", v)?;
        }
        if let Some(v) = m.reservation() {
            put(dirs, "memory.soft_limit_in_bytes", v)?;
        }
        if let Some(v) = m.swap() {
            put(dirs, "memory.memsw.limit_in_bytes", v)?;
        }
        if let Some(v) = m.swappiness() {
            put(dirs, "memory.swappiness", v)?;
        }
        if m.disable_oom_killer() == Some(true) {
            put(dirs, "memory.oom_control", 1)?;
        }
        if m.kernel().is_some() || m.kernel_tcp().is_some() {
            super::log::warn("memory.kernel and memory.kernelTCP are ignored (no kmem accounting in this kernel)");
        }
    }
    if let Some(c) = r.cpu() {
        if let Some(v) = c.shares() {
            put(dirs, "cpu.shares", v)?;
        }
        if let Some(v) = c.period() {
            put(dirs, "cpu.cfs_period_us", v)?;
        }
        if let Some(v) = c.quota() {
            put(dirs, "cpu.cfs_quota_us", v)?;
        }
        if let Some(v) = c.realtime_period() {
            put(dirs, "cpu.rt_period_us", v)?;
        }
        if let Some(v) = c.realtime_runtime() {
            put(dirs, "cpu.rt_runtime_us", v)?;
        }
        if let Some(v) = c.cpus() {
            put(dirs, "cpuset.cpus", v)?;
        }
        if let Some(v) = c.mems() {
            put(dirs, "cpuset.mems", v)?;
        }
    }
    if let Some(p) = r.pids() {
        let l = p.limit();
        put(
            dirs,
            "pids.max",
            if l > 0 { l.to_string() } else { "max".into() },
        )?;
    }
    if let Some(b) = r.block_io() {
        if let Some(w) = b.weight() {
            put(dirs, "blkio.weight", w).or_else(|_| put(dirs, "blkio.bfq.weight", w))?;
        }
        if let Some(w) = b.leaf_weight() {
            put(dirs, "blkio.leaf_weight", w)?;
        }
        for d in b.weight_device().iter().flatten() {
            if let Some(w) = d.weight() {
                put(
                    dirs,
                    "blkio.weight_device",
                    format!("{}:{} {w}", d.major(), d.minor()),
                )?;
            }
        }
        let throttles = [
            (
                "blkio.throttle.read_bps_device",
                b.throttle_read_bps_device(),
            ),
            (
                "blkio.throttle.write_bps_device",
                b.throttle_write_bps_device(),
            ),
            (
                "blkio.throttle.read_iops_device",
                b.throttle_read_iops_device(),
            ),
            (
                "blkio.throttle.write_iops_device",
                b.throttle_write_iops_device(),
            ),
        ];
        for (file, list) in throttles {
            for d in list.iter().flatten() {
                put(
                    dirs,
                    file,
                    format!("{}:{} {}", d.major(), d.minor(), d.rate()),
                )?;
            }
        }
    }
    for h in r.hugepage_limits().iter().flatten() {
        put(
            dirs,
            &format!("hugetlb.{}.limit_in_bytes", h.page_size()),
            h.limit(),
        )?;
    }
    if let Some(n) = r.network() {
        if let Some(c) = n.class_id() {
            put(dirs, "net_cls.classid", c)?;
        }
        for p in n.priorities().iter().flatten() {
            put(
                dirs,
                "net_prio.ifpriomap",
                format!("{} {}", p.name(), p.priority()),
            )?;
        }
    }
    for d in r.devices().iter().flatten() {
        let typ = d
            .typ()
            .map(|t| t.as_str().to_string())
            .unwrap_or_else(|| "a".into());
        let num = |n: Option<i64>| n.map_or("*".to_string(), |v| v.to_string());
        let rule = format!(
            "{typ} {}:{} {}",
            num(d.major()),
            num(d.minor()),
            d.access().clone().unwrap_or_else(|| "rwm".into())
        );
        let file = if d.allow() {
            "devices.allow"
        } else {
            "devices.deny"
        };
        if dirs.iter().any(|x| x.join(file).exists()) {
            put(dirs, file, rule)?;
        }
    }
    Ok(())
}

/// After config.json's device rules (v1): the devices every container gets (runc's
/// AllowedDevices) and the ones `linux.devices` lists stay usable, whatever the rules say.
pub fn allow_default_devices(
    dirs: &[PathBuf],
    devices: &[oci_spec::runtime::LinuxDevice],
) -> Result<()> {
    if !dirs.iter().any(|d| d.join("devices.allow").exists()) {
        return Ok(());
    }
    for r in super::device_rules::defaults(devices) {
        put(dirs, "devices.allow", r.line())?;
    }
    Ok(())
}

/// `update` with device rules (`filter`, made from them before anything is written): v1
/// has them written by `apply` (then the defaults again); v2 gets a new program in place of
/// the old one, or the scope new DeviceAllow=.
fn update_devices(saved: &Saved, filter: &super::device_rules::Filter) -> Result<()> {
    let dirs = &saved.cgroup_dirs;
    if !is_v2(dirs) {
        return allow_default_devices(dirs, &saved.devices);
    }
    let props = saved
        .scope
        .as_ref()
        .and_then(|unit| filter.systemd_properties().map(|p| (unit, p)));
    match props {
        Some((unit, p)) => {
            // An empty DeviceAllow= first: it clears the list the scope had.
            let mut all: Vec<(&str, zbus::zvariant::Value<'_>)> =
                vec![("DeviceAllow", Vec::<(String, String)>::new().into())];
            all.extend(p);
            crate::systemd::control::set_properties(unit, &all)
                .map_err(|e| format!("set the device rules of {unit}: {e}"))?;
            // A program of ours from before (rules systemd could not say) goes.
            crate::cgroups::bpf_prog::detach_ours(&dirs[0]).map_err(|e| e.to_string())
        }
        None => filter.attach(&dirs[0], true),
    }
}

fn apply_v2(dirs: &[PathBuf], r: &LinuxResources) -> Result<()> {
    if let Some(m) = r.memory() {
        if let Some(v) = m.limit() {
            put(
                dirs,
                "memory.max",
                if v < 0 { "max".into() } else { v.to_string() },
            )?;
            if let Some(s) = m.swap() {
                let swap = if s < 0 {
                    "max".into()
                } else {
                    (s - v).max(0).to_string()
                };
                put(dirs, "memory.swap.max", swap)?;
            }
        }
        if let Some(v) = m.reservation() {
            put(dirs, "memory.low", v)?;
        }
    }
    if let Some(c) = r.cpu() {
        if let Some(s) = c.shares() {
            put(
                dirs,
                "cpu.weight",
                crate::systemd::properties::shares_to_weight(s),
            )?;
        }
        if c.quota().is_some() || c.period().is_some() {
            let q = c
                .quota()
                .filter(|q| *q > 0)
                .map_or("max".to_string(), |q| q.to_string());
            put(
                dirs,
                "cpu.max",
                format!("{q} {}", c.period().unwrap_or(100_000)),
            )?;
        }
        if let Some(v) = c.cpus() {
            put(dirs, "cpuset.cpus", v)?;
        }
        if let Some(v) = c.mems() {
            put(dirs, "cpuset.mems", v)?;
        }
    }
    if let Some(p) = r.pids() {
        let l = p.limit();
        put(
            dirs,
            "pids.max",
            if l > 0 { l.to_string() } else { "max".into() },
        )?;
    }
    if let Some(w) = r.block_io().as_ref().and_then(|b| b.weight()) {
        put(dirs, "io.weight", format!("default {w}"))?;
    }
    for h in r.hugepage_limits().iter().flatten() {
        put(dirs, &format!("hugetlb.{}.max", h.page_size()), h.limit())?;
    }
    for (k, v) in r.unified().iter().flatten() {
        put(dirs, k, v)?;
    }
    Ok(())
}

pub fn update(root: &Path, a: &UpdateArgs) -> Result<()> {
    let saved = Saved::load(root, &a.id)?;
    let mut r: LinuxResources = match &a.resources {
        Some(p) if p.as_os_str() == "-" => serde_json::from_reader(std::io::stdin())
            .map_err(|e| format!("parse resources from stdin: {e}"))?,
        Some(p) => {
            let text =
                std::fs::read_to_string(p).map_err(|e| format!("read {}: {e}", p.display()))?;
            serde_json::from_str(&text).map_err(|e| format!("parse {}: {e}", p.display()))?
        }
        None => LinuxResources::default(),
    };
    if a.memory.is_some() {
        let mut m = (*r.memory()).unwrap_or_default();
        m.set_limit(a.memory);
        r.set_memory(Some(m));
    }
    if a.cpu_quota.is_some() || a.cpu_period.is_some() || a.cpu_share.is_some() {
        let mut c = r.cpu().clone().unwrap_or_default();
        if a.cpu_quota.is_some() {
            c.set_quota(a.cpu_quota);
        }
        if a.cpu_period.is_some() {
            c.set_period(a.cpu_period);
        }
        if a.cpu_share.is_some() {
            c.set_shares(a.cpu_share);
        }
        r.set_cpu(Some(c));
    }
    if let Some(l) = a.pids_limit {
        let mut p = (*r.pids()).unwrap_or_default();
        p.set_limit(l);
        r.set_pids(Some(p));
    }
    // Bad device rules fail the update before anything is written.
    let filter = match r.devices() {
        Some(list) => Some(super::device_rules::Filter::new(
            &super::device_rules::rule_list(list, &saved.devices)?,
        )?),
        None => None,
    };
    apply(&saved.cgroup_dirs, &r)?;
    filter.map_or(Ok(()), |f| update_devices(&saved, &f))
}

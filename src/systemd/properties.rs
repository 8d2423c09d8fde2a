//! The properties of a container's scope: what `systemctl show md-<id>.scope` reports and
//! what systemd enforces on the scope as a whole. cgroups-rs still applies the same limits
//! to the container's own cgroup inside the (delegated) scope.

use crate::cgroups::Version;
use crate::spec::Limits;
use zbus::zvariant::Value;

/// Stop: SIGTERM, then SIGKILL after this long (docker stop's default grace period).
/// systemd's default for scopes is 90 s.
pub const STOP_TIMEOUT_USEC: u64 = 10_000_000;

/// What a scope is made of, before it becomes D-Bus values.
#[derive(Debug, Clone)]
pub struct ScopeSpec {
    /// `md-<id>.scope`.
    pub unit: String,
    pub description: String,
    pub slice: String,
    /// The processes that make the scope (the container's init).
    pub pids: Vec<u32>,
    pub limits: Limits,
    /// Which cgroup version the host runs: some properties only exist on one.
    pub version: Version,
    /// More properties, sent last (mdrun-oci's DevicePolicy= and DeviceAllow=).
    pub extra: Vec<(&'static str, Value<'static>)>,
}

/// "mdrun container web (0123456789ab): sh -c 'sleep 1'"
pub fn description(name: &str, short_id: &str, command: &[String]) -> String {
    let mut cmd = command.join(" ");
    if cmd.chars().count() > 200 {
        cmd = cmd.chars().take(200).collect::<String>() + "...";
    }
    format!("mdrun container {name} ({short_id}): {cmd}")
}

/// The properties, in the order they are sent.
pub fn build(spec: &ScopeSpec) -> Vec<(&'static str, Value<'static>)> {
    let mut p: Vec<(&'static str, Value<'static>)> = vec![
        ("Description", Value::from(spec.description.clone())),
        ("Slice", Value::from(spec.slice.clone())),
        ("PIDs", Value::from(spec.pids.clone())),
        // The container's own cgroup lives inside the scope, made by mdrun.
        ("Delegate", Value::from(true)),
        // No ordering after basic.target or conflict with shutdown.target beyond what a
        // container needs: it must be able to start at any time (as machined's scopes).
        ("DefaultDependencies", Value::from(false)),
        // A failed scope is garbage-collected too, so its name is free for the next run.
        ("CollectMode", Value::from("inactive-or-failed")),
        ("MemoryAccounting", Value::from(true)),
        ("CPUAccounting", Value::from(true)),
        ("TasksAccounting", Value::from(true)),
        // The default (stop) makes systemd SIGTERM the whole scope after the kernel's OOM
        // kill, and the container ends with 143 instead of the 137 docker users expect.
        ("OOMPolicy", Value::from("continue")),
        ("TimeoutStopUSec", Value::from(STOP_TIMEOUT_USEC)),
    ];
    p.extend(limits(&spec.limits, spec.version));
    p.extend(spec.extra.iter().cloned());
    p
}

/// The limits as a scope's properties: those `build` sends, and those `mdrun update`
/// changes on a running scope (SetUnitProperties).
pub fn limits(l: &Limits, version: Version) -> Vec<(&'static str, Value<'static>)> {
    let mut p: Vec<(&'static str, Value<'static>)> = Vec::new();
    if let Some(m) = l.memory {
        p.push(("MemoryMax", Value::from(m)));
        if let (Version::V2, Some(swap)) = (version, l.memory_swap) {
            let swap_max = if swap < 0 {
                u64::MAX
            } else {
                (swap as u64).saturating_sub(m)
            };
            p.push(("MemorySwapMax", Value::from(swap_max)));
        }
    }
    if let Some(quota) = l.cpu_quota.filter(|q| *q > 0) {
        let period = l.cpu_period.unwrap_or(100_000).max(1);
        p.push((
            "CPUQuotaPerSecUSec",
            Value::from(quota as u64 * 1_000_000 / period),
        ));
        if period != 100_000 {
            p.push(("CPUQuotaPeriodUSec", Value::from(period)));
        }
    }
    if let Some(shares) = l.cpu_shares {
        match version {
            Version::V1 => p.push(("CPUShares", Value::from(shares))),
            Version::V2 => p.push(("CPUWeight", Value::from(shares_to_weight(shares)))),
        }
    }
    // AllowedCPUs drives the v2 cpuset controller only; on v1 systemd has no cpuset
    // support and mdrun's cgroup carries the set alone.
    if let (Version::V2, Some(cpus)) = (version, &l.cpuset_cpus) {
        if let Some(mask) = cpu_mask(cpus) {
            p.push(("AllowedCPUs", Value::from(mask)));
        }
    }
    if let Some(n) = l.pids_limit.filter(|n| *n > 0) {
        p.push(("TasksMax", Value::from(n as u64)));
    }
    p
}

/// cpu.shares (2..=262144) to cpu.weight (1..=10000), the mapping runc and crun use.
pub fn shares_to_weight(shares: u64) -> u64 {
    let s = shares.clamp(2, 262_144);
    1 + ((s - 2) * 9999) / 262_142
}

/// A cpuset list (`0-2,5`) as systemd's AllowedCPUs byte mask: bit n of byte n/8 is CPU n.
pub fn cpu_mask(list: &str) -> Option<Vec<u8>> {
    let mut mask = Vec::new();
    for part in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (a.parse::<usize>().ok()?, b.parse::<usize>().ok()?),
            None => {
                let n = part.parse::<usize>().ok()?;
                (n, n)
            }
        };
        if lo > hi || hi >= 8192 {
            return None;
        }
        for cpu in lo..=hi {
            if mask.len() <= cpu / 8 {
                mask.resize(cpu / 8 + 1, 0);
            }
            mask[cpu / 8] |= 1 << (cpu % 8);
        }
    }
    Some(mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(limits: Limits, version: Version) -> ScopeSpec {
        ScopeSpec {
            unit: "md-0123456789ab.scope".into(),
            description: description(
                "web",
                "0123456789ab",
                &["sh".into(), "-c".into(), "x".into()],
            ),
            slice: "machine.slice".into(),
            pids: vec![42],
            limits,
            version,
            extra: Vec::new(),
        }
    }

    fn get<'a>(p: &'a [(&'static str, Value<'static>)], key: &str) -> Option<&'a Value<'static>> {
        p.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    #[test]
    fn base_properties_are_always_there() {
        let p = build(&spec(Limits::default(), Version::V1));
        assert_eq!(
            get(&p, "Description"),
            Some(&Value::from("mdrun container web (0123456789ab): sh -c x"))
        );
        assert_eq!(get(&p, "Slice"), Some(&Value::from("machine.slice")));
        assert_eq!(get(&p, "PIDs"), Some(&Value::from(vec![42u32])));
        assert_eq!(get(&p, "Delegate"), Some(&Value::from(true)));
        assert_eq!(get(&p, "DefaultDependencies"), Some(&Value::from(false)));
        assert_eq!(
            get(&p, "CollectMode"),
            Some(&Value::from("inactive-or-failed"))
        );
        assert_eq!(get(&p, "OOMPolicy"), Some(&Value::from("continue")));
        assert!(get(&p, "MemoryMax").is_none());
        assert!(get(&p, "TasksMax").is_none());
    }

    #[test]
    fn limits_become_properties_per_cgroup_version() {
        let limits = Limits {
            memory: Some(100 << 20),
            memory_swap: Some(200 << 20),
            cpu_quota: Some(50_000),
            cpu_period: Some(100_000),
            cpu_shares: Some(1024),
            cpuset_cpus: Some("0-1,3".into()),
            pids_limit: Some(64),
            ..Default::default()
        };
        let v1 = build(&spec(limits.clone(), Version::V1));
        assert_eq!(get(&v1, "MemoryMax"), Some(&Value::from(100u64 << 20)));
        assert_eq!(
            get(&v1, "CPUQuotaPerSecUSec"),
            Some(&Value::from(500_000u64))
        );
        assert_eq!(get(&v1, "CPUShares"), Some(&Value::from(1024u64)));
        assert_eq!(get(&v1, "TasksMax"), Some(&Value::from(64u64)));
        assert!(get(&v1, "CPUWeight").is_none());
        assert!(get(&v1, "AllowedCPUs").is_none());
        assert!(get(&v1, "MemorySwapMax").is_none());
        assert!(get(&v1, "CPUQuotaPeriodUSec").is_none());

        let v2 = build(&spec(limits, Version::V2));
        assert_eq!(get(&v2, "CPUWeight"), Some(&Value::from(39u64)));
        assert_eq!(get(&v2, "AllowedCPUs"), Some(&Value::from(vec![0b1011u8])));
        assert_eq!(get(&v2, "MemorySwapMax"), Some(&Value::from(100u64 << 20)));
        assert!(get(&v2, "CPUShares").is_none());
    }

    #[test]
    fn unlimited_pids_and_odd_periods() {
        let limits = Limits {
            pids_limit: Some(-1),
            cpu_quota: Some(25_000),
            cpu_period: Some(50_000),
            ..Limits::default()
        };
        let p = build(&spec(limits, Version::V1));
        assert!(get(&p, "TasksMax").is_none());
        assert_eq!(
            get(&p, "CPUQuotaPerSecUSec"),
            Some(&Value::from(500_000u64))
        );
        assert_eq!(get(&p, "CPUQuotaPeriodUSec"), Some(&Value::from(50_000u64)));
    }

    #[test]
    fn shares_map_onto_weights_like_runc() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(262_144), 10_000);
    }

    #[test]
    fn cpu_lists_become_masks() {
        assert_eq!(cpu_mask("0"), Some(vec![1]));
        assert_eq!(cpu_mask("1,9"), Some(vec![2, 2]));
        assert_eq!(cpu_mask("0-7"), Some(vec![0xff]));
        assert_eq!(cpu_mask("3-1"), None);
        assert_eq!(cpu_mask("x"), None);
    }

    #[test]
    fn long_commands_are_cut_in_the_description() {
        let d = description("n", "id", &["x".repeat(500)]);
        assert!(d.ends_with("..."), "{d}");
        assert!(d.len() < 260);
    }
}

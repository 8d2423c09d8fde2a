//! The `[limits]` table of a container file and the `[defaults]` table of mdrun.toml.

use super::field::{Doc, Field};
use super::{ConfigError, ValueProblem};
use crate::parse;
use crate::spec::Limits;

/// Keys of a container's `[limits]`.
pub(crate) const CONTAINER_KEYS: &[&str] = &[
    "memory",
    "memory_swap",
    "cpus",
    "cpu_shares",
    "cpuset_cpus",
    "pids_limit",
];
/// Keys of mdrun.toml's `[defaults]`.
pub(crate) const DEFAULT_KEYS: &[&str] = &["memory", "pids_limit", "cpus"];

/// cpu.shares bounds the kernel accepts (docker's too).
const SHARES_MIN: i64 = 2;
const SHARES_MAX: i64 = 262_144;

const SIZE: &str = "a size like \"100m\" or a number of bytes";
const SWAP: &str = "a size like \"1g\", a number of bytes, or -1";
const CPUS: &str = "a number of CPUs like 0.5 or \"1.5\"";
const CPUSET: &str = "a CPU list like \"0-1\" or \"0,2\"";

/// Read a limits table (`field` is the key holding it), allowing only `allowed` keys.
/// `cpus` and `cpuset_cpus` are checked against `host_cpus`.
pub(crate) fn read(
    doc: &Doc<'_>,
    field: &Field<'_, '_>,
    allowed: &'static [&'static str],
    host_cpus: usize,
) -> Result<Limits, ConfigError> {
    let mut limits = Limits::default();
    let mut swap_field = None;
    for f in doc.fields(field.table()?, &field.key, allowed)? {
        match f.name {
            "memory" => limits.memory = Some(f.check(parse::memory(&f.scalar(false, SIZE)?))?),
            "memory_swap" => {
                limits.memory_swap = Some(f.check(parse::memory_swap(&f.scalar(false, SWAP)?))?);
                swap_field = Some(f);
            }
            "cpus" => {
                let (quota, period) = f.check(parse::cpus(&f.scalar(true, CPUS)?, host_cpus))?;
                limits.cpu_quota = Some(quota);
                limits.cpu_period = Some(period);
            }
            "cpu_shares" => {
                let value = f.int()?;
                if !(SHARES_MIN..=SHARES_MAX).contains(&value) {
                    let range = ValueProblem::OutOfRange {
                        value,
                        min: SHARES_MIN,
                        max: SHARES_MAX,
                    };
                    return Err(f.problem(range));
                }
                limits.cpu_shares = Some(value as u64);
            }
            "cpuset_cpus" => {
                let list = f.scalar(false, CPUSET)?;
                limits.cpuset_cpus = Some(f.check(parse::cpuset(&list, host_cpus))?);
            }
            "pids_limit" => {
                let value = f.int()?;
                if value != -1 && value <= 0 {
                    return Err(f.problem(ValueProblem::NotALimit(value)));
                }
                limits.pids_limit = Some(value);
            }
            other => unreachable!("Doc::fields let through {other:?}, not in {allowed:?}"),
        }
    }
    // The kernel refuses memsw below mem (EINVAL), with a worse message than this one.
    if let (Some(f), Some(swap), Some(memory)) = (swap_field, limits.memory_swap, limits.memory) {
        if swap != -1 && (swap as u64) < memory {
            return Err(f.problem(ValueProblem::SwapBelowMemory { swap, memory }));
        }
    }
    Ok(limits)
}

//! Parsers for what users type: sizes, cpus, volume specs, names, env, image references.
//! Pure functions, unit-tested and fuzzed; each error says what was wrong with which input.
//! (STUB: to be filled in; signatures are the contract.)

use crate::spec::VolumeSpec;

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("invalid size {0:?}: {1}")]
    Size(String, &'static str),
}

/// `100m`, `1g`, `512k`, `1024` (bytes), `1.5g`; case-insensitive, optional `b`/`ib` suffix.
/// Rejects zero, negative, empty, unknown units, overflow.
pub fn size(_s: &str) -> Result<u64, ParseError> { todo!() }
/// `--memory-swap`: a size, or `-1` for unlimited.
pub fn memory_swap(_s: &str) -> Result<i64, ParseError> { todo!() }
/// `--cpus 0.5` -> (quota_us, period_us) with period 100000; must be > 0 and <= host_cpus.
pub fn cpus(_s: &str, _host_cpus: usize) -> Result<(i64, u64), ParseError> { todo!() }
/// `--cpuset-cpus 0-1,3`: every cpu must be < host_cpus; returns the list normalised.
pub fn cpuset(_s: &str, _host_cpus: usize) -> Result<String, ParseError> { todo!() }
/// `-v SRC:DST[:ro|rw]`.
pub fn volume(_s: &str) -> Result<VolumeSpec, ParseError> { todo!() }
/// Container names: `[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}`.
pub fn name(_s: &str) -> Result<(), ParseError> { todo!() }
/// `-e K=V`, or `-e K` (value taken from mdrun's own environment, skipped when unset).
pub fn env_pair(_s: &str) -> Result<Option<(String, String)>, ParseError> { todo!() }
/// `--env-file FILE`: K=V lines, `#` comments and blank lines skipped.
pub fn env_file(_p: &std::path::Path) -> Result<Vec<(String, String)>, ParseError> { todo!() }
/// `NAME[:TAG]` -> (name, tag), tag defaults to `latest`.
pub fn image_ref(_s: &str) -> Result<(String, String), ParseError> { todo!() }

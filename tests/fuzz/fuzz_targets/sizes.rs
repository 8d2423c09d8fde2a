//! `-m/--memory`, `--memory-swap` (and the `memory` limits of the TOML files), `--cpus`,
//! `--cpuset-cpus`: never a panic, and what they accept is in range.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mdrun::parse;

/// Host CPU counts to check `--cpus` and `--cpuset-cpus` against: one, this machine's
/// kind, and a big one (whose bound the input cannot reach by expanding ranges).
const HOSTS: [usize; 3] = [1, 2, 4096];

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let s = s.as_ref();

    match parse::size(s) {
        Ok(n) => assert!(n > 0 && n <= i64::MAX as u64, "size({s:?}) = {n}"),
        Err(e) => drop(e.to_string()),
    }
    match parse::memory_swap(s) {
        Ok(n) => assert!(n == -1 || n > 0, "memory_swap({s:?}) = {n}"),
        Err(e) => drop(e.to_string()),
    }
    for host in HOSTS {
        match parse::cpus(s, host) {
            Ok((quota, period)) => {
                assert_eq!(period, parse::CPU_PERIOD_US, "cpus({s:?})");
                assert!(
                    (1_000..=host as i64 * period as i64).contains(&quota),
                    "cpus({s:?}, {host}) = {quota}/{period}"
                );
            }
            Err(e) => drop(e.to_string()),
        }
        match parse::cpuset(s, host) {
            Ok(list) => {
                // Normalised: parsing the output gives it back.
                let again = parse::cpuset(&list, host);
                assert_eq!(again.as_deref().ok(), Some(list.as_str()), "cpuset({s:?})");
            }
            Err(e) => drop(e.to_string()),
        }
    }
});

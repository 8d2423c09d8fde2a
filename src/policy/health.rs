//! A container's healthcheck: the image's HEALTHCHECK with `--health-*` over it, as docker
//! merges them, with docker's defaults (every 30 s, 30 s timeout, 3 retries).

use super::duration;
use std::time::Duration;

const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_RETRIES: u32 = 3;

/// The healthcheck a container runs, every value resolved. Durations in nanoseconds, as
/// docker's HEALTHCHECK keeps them (`{"Test": ["CMD-SHELL", "..."], "Interval": ...}`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthConfig {
    /// `["CMD-SHELL", "cmd"]` (run by /bin/sh -c) or `["CMD", "prog", "arg"...]`.
    pub test: Vec<String>,
    pub interval: u64,
    pub timeout: u64,
    #[serde(default)]
    pub start_period: u64,
    pub retries: u32,
}

/// The `--health-*` flags as given (unparsed), and `--no-healthcheck`.
#[derive(Debug, Clone, Default)]
pub struct HealthArgs<'a> {
    pub cmd: Option<&'a str>,
    pub interval: Option<&'a str>,
    pub timeout: Option<&'a str>,
    pub start_period: Option<&'a str>,
    pub retries: Option<u32>,
    pub none: bool,
}

impl HealthArgs<'_> {
    fn any_option(&self) -> bool {
        self.cmd.is_some()
            || self.interval.is_some()
            || self.timeout.is_some()
            || self.start_period.is_some()
            || self.retries.is_some()
    }
}

/// The image's HEALTHCHECK as its config holds it.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ImageHealth {
    #[serde(default)]
    test: Vec<String>,
    #[serde(default)]
    interval: u64,
    #[serde(default)]
    timeout: u64,
    #[serde(default)]
    start_period: u64,
    #[serde(default)]
    retries: u32,
}

impl HealthConfig {
    /// The flags over the image's HEALTHCHECK (`image`); None when there is no check (none
    /// in the image and no `--health-cmd`, `HEALTHCHECK NONE`, or `--no-healthcheck`).
    pub fn resolve(
        image: Option<&serde_json::Value>,
        args: &HealthArgs<'_>,
    ) -> Result<Option<HealthConfig>, String> {
        if args.none {
            if args.any_option() {
                return Err("--no-healthcheck conflicts with the --health-* options".into());
            }
            return Ok(None);
        }
        let base: ImageHealth = image
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        let test = match args.cmd {
            Some("") => return Err("--health-cmd is empty".into()),
            Some(cmd) => vec!["CMD-SHELL".to_string(), cmd.to_string()],
            None => base.test.clone(),
        };
        let check = |flag: &str, given: Option<&str>, image: u64, default: Duration| {
            let d = match given {
                Some(s) => duration(s).map_err(|e| format!("invalid {flag}: {e}"))?,
                None if image > 0 => Duration::from_nanos(image),
                None => default,
            };
            Ok::<u64, String>(d.as_nanos().min(u64::MAX as u128) as u64)
        };
        let interval = check(
            "--health-interval",
            args.interval,
            base.interval,
            DEFAULT_INTERVAL,
        )?;
        let timeout = check(
            "--health-timeout",
            args.timeout,
            base.timeout,
            DEFAULT_TIMEOUT,
        )?;
        let start_period = check(
            "--health-start-period",
            args.start_period,
            base.start_period,
            Duration::ZERO,
        )?;
        for (flag, v) in [
            ("--health-interval", interval),
            ("--health-timeout", timeout),
        ] {
            if v < 1_000_000 {
                return Err(format!("{flag} must be at least 1ms"));
            }
        }
        let retries = match args.retries.unwrap_or(base.retries) {
            0 => DEFAULT_RETRIES,
            n => n,
        };
        match test.first().map(String::as_str) {
            None | Some("NONE") => Ok(None),
            Some("CMD-SHELL") if test.len() == 2 => Ok(Some(HealthConfig {
                test,
                interval,
                timeout,
                start_period,
                retries,
            })),
            Some("CMD") if test.len() >= 2 => Ok(Some(HealthConfig {
                test,
                interval,
                timeout,
                start_period,
                retries,
            })),
            Some(_) => Err(format!(
                "the image's HEALTHCHECK test {test:?} is neither CMD nor CMD-SHELL"
            )),
        }
    }

    /// What runs in the container.
    pub fn argv(&self) -> Vec<String> {
        match self.test.first().map(String::as_str) {
            Some("CMD-SHELL") => vec!["/bin/sh".into(), "-c".into(), self.test[1].clone()],
            _ => self.test[1..].to_vec(),
        }
    }

    pub fn interval(&self) -> Duration {
        Duration::from_nanos(self.interval)
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_nanos(self.timeout)
    }

    pub fn start_period(&self) -> Duration {
        Duration::from_nanos(self.start_period)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_over_the_image_with_docker_defaults() {
        let image = serde_json::json!({"Test": ["CMD", "true"], "Interval": 5_000_000_000u64, "Retries": 7});
        let args = HealthArgs {
            timeout: Some("2s"),
            ..Default::default()
        };
        let h = HealthConfig::resolve(Some(&image), &args).unwrap().unwrap();
        assert_eq!(h.argv(), vec!["true"]);
        assert_eq!(h.interval(), Duration::from_secs(5));
        assert_eq!(h.timeout(), Duration::from_secs(2));
        assert_eq!(h.retries, 7);
        let args = HealthArgs {
            cmd: Some("test -f /tmp/ok"),
            ..Default::default()
        };
        let h = HealthConfig::resolve(None, &args).unwrap().unwrap();
        assert_eq!(h.argv(), vec!["/bin/sh", "-c", "test -f /tmp/ok"]);
        assert_eq!(h.interval(), DEFAULT_INTERVAL);
        assert_eq!(h.retries, DEFAULT_RETRIES);
    }

    #[test]
    fn no_check_when_none_asked_or_disabled() {
        assert_eq!(
            HealthConfig::resolve(None, &HealthArgs::default()),
            Ok(None)
        );
        let none = serde_json::json!({"Test": ["NONE"]});
        assert_eq!(
            HealthConfig::resolve(Some(&none), &HealthArgs::default()),
            Ok(None)
        );
        let image = serde_json::json!({"Test": ["CMD", "true"]});
        let off = HealthArgs {
            none: true,
            ..Default::default()
        };
        assert_eq!(HealthConfig::resolve(Some(&image), &off), Ok(None));
        let both = HealthArgs {
            none: true,
            cmd: Some("true"),
            ..Default::default()
        };
        assert!(HealthConfig::resolve(None, &both).is_err());
    }

    #[test]
    fn bad_values_are_refused() {
        let bad = HealthArgs {
            cmd: Some("true"),
            interval: Some("soon"),
            ..Default::default()
        };
        let e = HealthConfig::resolve(None, &bad).unwrap_err();
        assert!(e.contains("--health-interval"), "{e}");
        let tiny = HealthArgs {
            cmd: Some("true"),
            timeout: Some("10us"),
            ..Default::default()
        };
        assert!(HealthConfig::resolve(None, &tiny).is_err());
    }
}

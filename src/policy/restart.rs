//! `--restart no|on-failure[:N]|always|unless-stopped`, docker's restart policies, and what
//! each decides when the container's command ends.

/// docker's policy names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartName {
    #[default]
    No,
    OnFailure,
    Always,
    UnlessStopped,
}

/// As docker's HostConfig.RestartPolicy: `{"Name": "on-failure", "MaximumRetryCount": 2}`
/// (a count of 0 means no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RestartPolicy {
    pub name: RestartName,
    #[serde(default)]
    pub maximum_retry_count: u32,
}

impl RestartPolicy {
    /// `no`, `always`, `unless-stopped`, `on-failure` or `on-failure:N`.
    pub fn parse(input: &str) -> Result<RestartPolicy, String> {
        let (name, count) = match input.split_once(':') {
            Some((n, c)) => (n, Some(c)),
            None => (input, None),
        };
        let name = match name {
            "no" => RestartName::No,
            "on-failure" => RestartName::OnFailure,
            "always" => RestartName::Always,
            "unless-stopped" => RestartName::UnlessStopped,
            _ => {
                return Err(format!(
                    "invalid restart policy {}: use no, on-failure[:N], always or unless-stopped",
                    crate::quote::quoted(input)
                ))
            }
        };
        let maximum_retry_count = match count {
            None => 0,
            Some(_) if name != RestartName::OnFailure => {
                return Err(format!(
                    "invalid restart policy {}: a maximum retry count is only for on-failure",
                    crate::quote::quoted(input)
                ))
            }
            Some(c) => c.parse::<u32>().map_err(|_| {
                format!(
                    "invalid restart policy {}: the maximum retry count must be a number >= 0",
                    crate::quote::quoted(input)
                )
            })?,
        };
        Ok(RestartPolicy {
            name,
            maximum_retry_count,
        })
    }

    /// Does systemd supervise the container (anything but `no`)?
    pub fn supervised(&self) -> bool {
        self.name != RestartName::No
    }

    /// The command ended with `code` after `restarts` restarts: start it again? Never
    /// after a stop that was asked for (`mdrun stop`, `systemctl stop`).
    pub fn restarts_after(&self, code: i32, restarts: u32, stop_requested: bool) -> bool {
        if stop_requested {
            return false;
        }
        match self.name {
            RestartName::No => false,
            RestartName::Always | RestartName::UnlessStopped => true,
            RestartName::OnFailure => {
                code != 0 && (self.maximum_retry_count == 0 || restarts < self.maximum_retry_count)
            }
        }
    }

    /// Is the container started again when the host boots? `always` unless its restarts
    /// ended in a failure count, `unless-stopped` unless a user stopped it.
    pub fn starts_at_boot(&self, stopped_by_user: bool) -> bool {
        match self.name {
            RestartName::Always => true,
            RestartName::UnlessStopped => !stopped_by_user,
            RestartName::No | RestartName::OnFailure => false,
        }
    }

    /// As the user writes it.
    pub fn display(&self) -> String {
        match (self.name, self.maximum_retry_count) {
            (RestartName::No, _) => "no".into(),
            (RestartName::OnFailure, 0) => "on-failure".into(),
            (RestartName::OnFailure, n) => format!("on-failure:{n}"),
            (RestartName::Always, _) => "always".into(),
            (RestartName::UnlessStopped, _) => "unless-stopped".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_as_docker_writes_them() {
        for s in [
            "no",
            "always",
            "unless-stopped",
            "on-failure",
            "on-failure:2",
        ] {
            assert_eq!(RestartPolicy::parse(s).unwrap().display(), s);
        }
        let p = RestartPolicy::parse("on-failure:2").unwrap();
        assert_eq!(p.maximum_retry_count, 2);
        assert!(RestartPolicy::parse("sometimes").is_err());
        assert!(RestartPolicy::parse("always:3").is_err());
        assert!(RestartPolicy::parse("on-failure:x").is_err());
        assert!(RestartPolicy::parse("on-failure:-1").is_err());
    }

    #[test]
    fn on_failure_counts_and_ignores_success() {
        let p = RestartPolicy::parse("on-failure:2").unwrap();
        assert!(p.restarts_after(1, 0, false));
        assert!(p.restarts_after(1, 1, false));
        assert!(!p.restarts_after(1, 2, false), "two restarts, then no more");
        assert!(!p.restarts_after(0, 0, false), "success is not a failure");
        let unlimited = RestartPolicy::parse("on-failure").unwrap();
        assert!(unlimited.restarts_after(3, 1000, false));
    }

    #[test]
    fn always_restarts_until_stopped() {
        let p = RestartPolicy::parse("always").unwrap();
        assert!(p.restarts_after(0, 50, false));
        assert!(!p.restarts_after(143, 0, true));
        assert!(p.starts_at_boot(true));
        let u = RestartPolicy::parse("unless-stopped").unwrap();
        assert!(!u.starts_at_boot(true));
        assert!(u.starts_at_boot(false));
        assert!(!RestartPolicy::default().supervised());
    }

    #[test]
    fn serialized_as_docker_host_config() {
        let p = RestartPolicy::parse("on-failure:2").unwrap();
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"Name":"on-failure","MaximumRetryCount":2}"#
        );
    }
}

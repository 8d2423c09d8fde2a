//! `linux.resources.devices`: which device nodes the container may open or make.
//!
//! The list is config.json's rules in order, then runc's default devices (its
//! AllowedDevices, as mdrun-oci keeps them on v1) and the nodes `linux.devices` lists, each
//! allowed `rwm`. On cgroup v1 the rules are written one by one into devices.allow and
//! devices.deny (`update::apply`), and the kernel keeps the result. cgroup v2 has no such
//! files: as runc does (libcontainer/cgroups/devices/devices_emulator.go), the list is first
//! played through v1's semantics here (`Filter`): a default (deny, or allow after an `a`
//! allow rule) and a set of exceptions, each (type, major, minor) with its access; an allow
//! adds access to an exception of a deny-default list and takes it from one of an
//! allow-default list, a deny the other way round, so the last rule that matches wins.
//! Taking access out of a wildcard exception (deny `c 1:3 w` after allow `c *:* rwm`) is
//! refused, as v1 cannot do it either. The result becomes:
//! - cgroupfs: a BPF_CGROUP_DEVICE program (`crate::cgroups::device_bpf`) attached to the
//!   container's cgroup before its init is placed; `update` replaces it.
//! - `--systemd-cgroup`: the scope's `DevicePolicy=strict` and `DeviceAllow=` (as runc's
//!   systemd driver sends them), so that systemd's own filter is the one and `systemctl
//!   show` tells it. Where systemd cannot say it (an allow-default list with exceptions, a
//!   `*:n` rule) the program above is attached to the scope's cgroup instead.

use super::Result;
use crate::cgroups::device_bpf::{self, Rule, ACC_MKNOD, ACC_READ, ACC_WRITE, DEV_BLOCK, DEV_CHAR};
use oci_spec::runtime::{LinuxDevice, LinuxDeviceCgroup, LinuxDeviceType};
use std::collections::BTreeMap;
use std::path::Path;
use zbus::zvariant::Value;

const RWM: u32 = ACC_READ | ACC_WRITE | ACC_MKNOD;

/// runc's AllowedDevices (type, major, minor, access; None is `*`): mknod of anything, and
/// the standard nodes and pseudo-terminals for use.
const DEFAULTS: &[(u32, Option<u32>, Option<u32>, u32)] = &[
    (DEV_CHAR, None, None, ACC_MKNOD),
    (DEV_BLOCK, None, None, ACC_MKNOD),
    (DEV_CHAR, Some(1), Some(3), RWM), // null
    (DEV_CHAR, Some(1), Some(5), RWM), // zero
    (DEV_CHAR, Some(1), Some(7), RWM), // full
    (DEV_CHAR, Some(1), Some(8), RWM), // random
    (DEV_CHAR, Some(1), Some(9), RWM), // urandom
    (DEV_CHAR, Some(5), Some(0), RWM), // tty
    (DEV_CHAR, Some(5), Some(1), RWM), // console
    (DEV_CHAR, Some(5), Some(2), RWM), // ptmx
    (DEV_CHAR, Some(136), None, RWM),  // /dev/pts/*
];

/// One rule: `ty` None is `a` (every device).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DevRule {
    pub allow: bool,
    pub ty: Option<u32>,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    pub access: u32,
}

fn access_str(a: u32) -> String {
    [(ACC_READ, 'r'), (ACC_WRITE, 'w'), (ACC_MKNOD, 'm')]
        .iter()
        .filter(|(bit, _)| a & bit != 0)
        .map(|(_, c)| *c)
        .collect()
}

impl DevRule {
    /// The `i`th rule of config.json's list.
    fn parse(i: usize, d: &LinuxDeviceCgroup) -> Result<DevRule> {
        let what = || format!("linux.resources.devices[{i}] ({d})");
        let ty = match d.typ().unwrap_or(LinuxDeviceType::A) {
            LinuxDeviceType::A => None,
            LinuxDeviceType::B => Some(DEV_BLOCK),
            LinuxDeviceType::C | LinuxDeviceType::U => Some(DEV_CHAR),
            LinuxDeviceType::P => return Err(format!("{}: type p has no cgroup rule", what())),
        };
        let num = |n: Option<i64>| -> Result<Option<u32>> {
            match n {
                None => Ok(None),
                Some(v) if v < 0 => Ok(None),
                Some(v) => u32::try_from(v)
                    .map(Some)
                    .map_err(|_| format!("{}: {v} is not a device number", what())),
            }
        };
        let mut access = 0;
        for c in d.access().as_deref().unwrap_or("rwm").chars() {
            access |= match c {
                'r' => ACC_READ,
                'w' => ACC_WRITE,
                'm' => ACC_MKNOD,
                _ => return Err(format!("{}: unknown access {c:?} (r, w, m)", what())),
            };
        }
        Ok(DevRule {
            allow: d.allow(),
            ty,
            major: num(d.major())?,
            minor: num(d.minor())?,
            access,
        })
    }

    /// As v1's devices.allow takes it: `c 1:3 rwm`.
    pub fn line(&self) -> String {
        let ty = match self.ty {
            None => "a",
            Some(DEV_BLOCK) => "b",
            Some(_) => "c",
        };
        let num = |n: Option<u32>| n.map_or("*".to_string(), |v| v.to_string());
        let access = access_str(self.access);
        format!("{ty} {}:{} {access}", num(self.major), num(self.minor))
    }
}

/// runc's default devices and the nodes of `linux.devices`, as allow rules (v1 and v2).
pub fn defaults(devices: &[LinuxDevice]) -> Vec<DevRule> {
    let mut out: Vec<DevRule> = DEFAULTS
        .iter()
        .map(|&(ty, major, minor, access)| DevRule {
            allow: true,
            ty: Some(ty),
            major,
            minor,
            access,
        })
        .collect();
    for d in devices {
        let ty = match d.typ() {
            LinuxDeviceType::B => DEV_BLOCK,
            LinuxDeviceType::P | LinuxDeviceType::A => continue,
            LinuxDeviceType::C | LinuxDeviceType::U => DEV_CHAR,
        };
        let num = |n: i64| u32::try_from(n).ok();
        out.push(DevRule {
            allow: true,
            ty: Some(ty),
            major: num(d.major()),
            minor: num(d.minor()),
            access: RWM,
        });
    }
    out
}

/// The whole list: config.json's rules, then the defaults.
pub fn rule_list(config: &[LinuxDeviceCgroup], devices: &[LinuxDevice]) -> Result<Vec<DevRule>> {
    let mut rules = config
        .iter()
        .enumerate()
        .map(|(i, d)| DevRule::parse(i, d))
        .collect::<Result<Vec<_>>>()?;
    rules.extend(defaults(devices));
    Ok(rules)
}

type Key = (u32, Option<u32>, Option<u32>);

/// The list played through v1's semantics: a default and its exceptions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub default_allow: bool,
    exceptions: BTreeMap<Key, u32>,
}

impl Filter {
    pub fn new(rules: &[DevRule]) -> Result<Filter> {
        let mut f = Filter::default();
        for r in rules {
            f.apply(r)?;
        }
        Ok(f)
    }

    fn apply(&mut self, r: &DevRule) -> Result<()> {
        let Some(ty) = r.ty else {
            // `a`: a new default, no exceptions (whatever its access says, as v1 and runc).
            *self = Filter {
                default_allow: r.allow,
                exceptions: BTreeMap::new(),
            };
            return Ok(());
        };
        let key = (ty, r.major, r.minor);
        if r.allow != self.default_allow {
            *self.exceptions.entry(key).or_insert(0) |= r.access;
            return Ok(());
        }
        // Back towards the default: only an exception of exactly this key can shrink.
        for wider in [(ty, None, r.minor), (ty, r.major, None), (ty, None, None)] {
            let held = self.exceptions.get(&wider).copied().unwrap_or(0);
            if wider != key && held & r.access != 0 {
                let w = DevRule {
                    allow: !r.allow,
                    ty: Some(ty),
                    major: wider.1,
                    minor: wider.2,
                    access: held,
                };
                return Err(format!(
                    "linux.resources.devices: the rule '{}' would punch a hole in the wildcard rule '{}' (not possible with cgroup devices)",
                    r.line(),
                    w.line()
                ));
            }
        }
        if let Some(a) = self.exceptions.get_mut(&key) {
            *a &= !r.access;
            if *a == 0 {
                self.exceptions.remove(&key);
            }
        }
        Ok(())
    }

    fn rules(&self) -> Vec<Rule> {
        self.exceptions
            .iter()
            .map(|(&(ty, major, minor), &access)| Rule {
                ty: Some(ty),
                major,
                minor,
                access,
            })
            .collect()
    }

    /// The BPF program for the cgroup v2 device controller.
    pub fn program(&self) -> Vec<device_bpf::Insn> {
        device_bpf::filter(self.default_allow, &self.rules())
    }

    /// Attach the program to the container's cgroup2 directory (`replace`: in place of the
    /// one attached before).
    pub fn attach(&self, dir: &Path, replace: bool) -> Result<()> {
        let prog = self.program();
        let r = if replace {
            crate::cgroups::bpf_prog::replace(dir, &prog)
        } else {
            crate::cgroups::bpf_prog::attach(dir, &prog)
        };
        r.map_err(|e| e.to_string())
    }

    /// The scope properties that make systemd enforce the list (cgroup v2), or None when
    /// systemd cannot say it.
    pub fn systemd_properties(&self) -> Option<Vec<(&'static str, Value<'static>)>> {
        let none: Vec<(String, String)> = Vec::new();
        if self.default_allow {
            return self.exceptions.is_empty().then(|| {
                vec![
                    ("DevicePolicy", "auto".into()),
                    ("DeviceAllow", none.into()),
                ]
            });
        }
        let mut list: Vec<(String, String)> = Vec::new();
        for (&(ty, major, minor), &access) in &self.exceptions {
            let kind = if ty == DEV_BLOCK { "block" } else { "char" };
            let path = match (major, minor) {
                (None, None) => format!("{kind}-*"),
                (Some(m), None) => format!("{kind}-{m}"),
                (Some(m), Some(n)) => format!("/dev/{kind}/{m}:{n}"),
                (None, Some(_)) => return None,
            };
            list.push((path, access_str(access)));
        }
        Some(vec![
            ("DevicePolicy", "strict".into()),
            ("DeviceAllow", list.into()),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::device_bpf::evaluate;

    fn rule(json: &str) -> LinuxDeviceCgroup {
        serde_json::from_str(json).unwrap()
    }

    fn filter(config: &[&str]) -> Result<Filter> {
        let config: Vec<LinuxDeviceCgroup> = config.iter().map(|j| rule(j)).collect();
        Filter::new(&rule_list(&config, &[])?)
    }

    const DENY_ALL: &str = r#"{"allow": false, "access": "rwm"}"#;

    #[test]
    fn the_last_matching_rule_wins_and_the_defaults_stay() {
        let f = filter(&[
            DENY_ALL,
            r#"{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "rwm"}"#,
            r#"{"allow": false, "type": "c", "major": 1, "minor": 11, "access": "w"}"#,
        ])
        .unwrap();
        let p = f.program();
        assert_eq!(evaluate(&p, DEV_CHAR, ACC_WRITE, 1, 11), 0, "kmsg write");
        assert_eq!(evaluate(&p, DEV_CHAR, ACC_READ, 1, 11), 1, "kmsg read");
        assert_eq!(
            evaluate(&p, DEV_CHAR, ACC_READ | ACC_WRITE, 1, 3),
            1,
            "null"
        );
        assert_eq!(evaluate(&p, DEV_BLOCK, ACC_MKNOD, 8, 0), 1, "mknod a disk");
        assert_eq!(evaluate(&p, DEV_BLOCK, ACC_READ, 8, 0), 0, "read a disk");
        assert_eq!(evaluate(&p, DEV_CHAR, ACC_READ, 10, 200), 0, "tun");
    }

    #[test]
    fn an_allow_all_list_with_denials_denies_on_any_overlap() {
        let f = filter(&[
            r#"{"allow": true, "access": "rwm"}"#,
            r#"{"allow": false, "type": "c", "major": 10, "minor": 200, "access": "w"}"#,
        ])
        .unwrap();
        assert!(f.default_allow);
        let p = f.program();
        assert_eq!(evaluate(&p, DEV_CHAR, ACC_READ | ACC_WRITE, 10, 200), 0);
        assert_eq!(evaluate(&p, DEV_CHAR, ACC_READ, 10, 200), 1);
        assert_eq!(evaluate(&p, DEV_BLOCK, ACC_READ, 8, 0), 1);
        assert!(f.systemd_properties().is_none(), "systemd has no deny list");
    }

    #[test]
    fn a_hole_in_a_wildcard_and_bad_rules_are_errors() {
        let e = filter(&[
            DENY_ALL,
            r#"{"allow": true, "type": "c", "access": "rwm"}"#,
            r#"{"allow": false, "type": "c", "major": 1, "minor": 3, "access": "w"}"#,
        ])
        .unwrap_err();
        assert!(e.contains("'c 1:3 w'") && e.contains("'c *:* rwm'"), "{e}");
        let e = filter(&[r#"{"allow": true, "type": "c", "access": "rx"}"#]).unwrap_err();
        assert!(e.contains("devices[0]") && e.contains("'x'"), "{e}");
        assert!(filter(&[r#"{"allow": true, "type": "p"}"#]).is_err());
    }

    #[test]
    fn systemd_gets_the_allow_list_as_device_allow() {
        let f = filter(&[
            DENY_ALL,
            r#"{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "rm"}"#,
        ])
        .unwrap();
        let p = f.systemd_properties().unwrap();
        assert_eq!(p[0], ("DevicePolicy", Value::from("strict")));
        let Value::Array(list) = &p[1].1 else {
            panic!("{p:?}")
        };
        let text = format!("{list:?}");
        for want in [
            "char-*",
            "block-*",
            "/dev/char/1:11",
            "/dev/char/1:3",
            "char-136",
        ] {
            assert!(text.contains(want), "{want} not in {text}");
        }
        // `*:n` has no DeviceAllow form.
        let f = filter(&[
            DENY_ALL,
            r#"{"allow": true, "type": "c", "minor": 11, "access": "r"}"#,
        ])
        .unwrap();
        assert!(f.systemd_properties().is_none());
    }
}

//! `-v/--volume` specs (and the `volumes` of a container TOML file), `--tmpfs`, and the rest
//! of the security flags that parse a string (`--security-opt`, `--cap-add/--cap-drop`,
//! `--user`): never a panic, and an accepted spec keeps the parser's promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mdrun::spec::VolumeSource;
use std::path::{Component, Path};

/// Absolute, without `.`/`..` components, not `/`: what the mount code relies on.
fn check_target(what: &str, input: &str, p: &Path) {
    assert!(p.is_absolute(), "{what} {input:?}: {p:?} is relative");
    assert!(p != Path::new("/"), "{what} {input:?}: mounts over /");
    assert!(
        p.components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_))),
        "{what} {input:?}: {p:?} is not normalised"
    );
}

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let s = s.as_ref();

    match mdrun::parse::volume(s) {
        Ok(v) => {
            check_target("volume", s, &v.target);
            match &v.source {
                VolumeSource::Host(p) => assert!(
                    p.is_absolute()
                        && p.components()
                            .all(|c| matches!(c, Component::RootDir | Component::Normal(_))),
                    "volume {s:?}: host path {p:?}"
                ),
                VolumeSource::Named(n) => assert!(
                    !n.is_empty() && !n.contains(['/', '\0']) && n != "." && n != "..",
                    "volume {s:?}: volume name {n:?}"
                ),
            }
        }
        Err(e) => drop(e.to_string()),
    }

    match mdrun::security::parse_tmpfs(s) {
        Ok(t) => {
            check_target("tmpfs", s, &t.target);
            // Handed to mount(2) as its data: only validated KEY=VALUE options.
            assert!(!t.data.contains(['\0', '\n']), "tmpfs {s:?}: {t:?}");
            for opt in t.data.split(',').filter(|o| !o.is_empty()) {
                let known = ["size", "nr_inodes", "nr_blocks", "mode", "uid", "gid"];
                assert!(
                    opt.split_once('=')
                        .is_some_and(|(k, v)| known.contains(&k) && !v.is_empty()),
                    "tmpfs {s:?}: option {opt:?} in {t:?}"
                );
            }
        }
        Err(e) => drop(e.to_string()),
    }

    // `run`'s security flags: the input as one of each, then its lines as several.
    let one = [s.to_string()];
    let many: Vec<String> = s.split('\n').map(str::to_string).collect();
    for list in [&one[..], &many[..]] {
        let args = mdrun::security::SecurityArgs {
            cap_add: list,
            cap_drop: list,
            security_opt: list,
            tmpfs: list,
            user: list.first().map(String::as_str),
            ..Default::default()
        };
        if let Err(e) = mdrun::security::parse_options(&args) {
            drop(e.to_string());
        }
    }
});

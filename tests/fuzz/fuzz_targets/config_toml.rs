//! The TOML files: a container file (`run --config`, `/etc/mdrun/containers/*.toml`) and the
//! global config (`/etc/mdrun/mdrun.toml`). Every input is given to both. A bad file must be
//! an error that names the file and line, never a panic (errors are formatted too: they
//! compute line numbers from byte offsets).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for host_cpus in [1, 2] {
        match mdrun::config::parse_container(Path::new("/fuzz/web.toml"), &text, host_cpus) {
            Ok(c) => {
                for v in &c.volumes {
                    assert!(v.target.is_absolute(), "{v:?}");
                }
                if let Some(w) = &c.workdir {
                    assert!(w.is_absolute(), "workdir {w:?}");
                }
            }
            Err(e) => drop(e.to_string()),
        }
        match mdrun::config::GlobalConfig::parse(Path::new("/fuzz/mdrun.toml"), &text, host_cpus) {
            Ok(g) => assert!(
                g.root.is_absolute() && g.run_root.is_absolute(),
                "root {:?}, run_root {:?}",
                g.root,
                g.run_root
            ),
            Err(e) => drop(e.to_string()),
        }
    }
});

//! The conformance tools this area uses, from ../shared/tools: `oci-suites` builds
//! runtime-tools' validation suite and cri-tools' crictl into a cache
//! (`MDRUN_OCI_SUITES_DIR`, default /var/cache/mdrun-oci-suites; about 2.5 minutes the first
//! time on a fresh machine). Tests that need it ask [`built`], which builds once: a lock
//! file (flock) keeps two builds out of the cache at once, in this process or another,
//! since two at once break each other (one's venv half made when the other uses it).

use std::path::{Path, PathBuf};
use std::process::Command;

/// `../shared/tools/REL` beside the checkout (or beside a worktree's parent).
pub fn shared_tool(rel: &str) -> PathBuf {
    if rel == "oci-suites" {
        if let Some(p) = std::env::var_os("MDRUN_OCI_SUITES_TOOL") {
            return p.into();
        }
    }
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        here.join("../shared/tools").join(rel),
        here.join("../../shared/tools").join(rel),
    ]
    .into_iter()
    .find(|p| p.exists())
    .unwrap_or_else(|| panic!("../shared/tools/{rel} not found"))
}

/// The suites' cache, built (under the lock) unless it is already.
pub fn built() -> PathBuf {
    let cache = PathBuf::from(
        std::env::var("MDRUN_OCI_SUITES_DIR")
            .unwrap_or_else(|_| "/var/cache/mdrun-oci-suites".into()),
    );
    let ready = |c: &Path| c.join("rt/src/runtimetest").exists() && c.join("bin/crictl").exists();
    if !ready(&cache) {
        let lock = cache.with_extension("lock");
        let st = Command::new("flock")
            .arg(&lock)
            .arg("bash")
            .arg(shared_tool("oci-suites"))
            .arg("build")
            .arg(&cache)
            .status()
            .unwrap();
        assert!(
            st.success(),
            "oci-suites build {} failed: {st}",
            cache.display()
        );
        assert!(
            ready(&cache),
            "oci-suites build {} made no suites",
            cache.display()
        );
    }
    cache
}

/// crictl, from the cache.
pub fn crictl() -> PathBuf {
    built().join("bin/crictl")
}

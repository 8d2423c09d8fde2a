//! Tar archives (`mdrun import`, `mdrun load`): the input is a flag byte and an archive,
//! imported into a scratch store under a temp dir. It may fail, but must never panic and
//! never write outside the store's import dirs: every entry lands in `<root>/layers/<id>/`
//! or is removed with the failed import.
//!
//! The flag byte: bit 0 set, the 512-byte headers get their checksums recomputed (else
//! libFuzzer's mutations would almost all stop at the first checksum; skipped for a gzip
//! or zstd stream); bit 1 set, the archive goes to `load` (OCI or docker archive) instead
//! of `import` (a root filesystem).
//!
//! The store sits a few directories below the scratch base, `<tmp>/mdrun-fuzz-tar-<pid>/
//! 1/2/root`: after each input every level must hold only the next one (and the base an
//! empty `outside/`, which the seed archives aim at), and `/mdrun-fuzz-escape`, the
//! absolute path the seeds aim at, must not exist. Then the store is removed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mdrun::image::Store;
use mdrun::paths::Paths;
use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Larger inputs are skipped: the runner's -max_len is 64 KiB.
const MAX_INPUT: usize = 1 << 20;
/// What hostile absolute names and link targets in the seeds point at.
const CANARY: &str = "/mdrun-fuzz-escape";
/// Directories between the base and the store root.
const LEVELS: [&str; 2] = ["1", "2"];

struct Scratch {
    base: PathBuf,
    outside: PathBuf,
    store: Store,
}

fn scratch() -> &'static Scratch {
    static SCRATCH: OnceLock<Scratch> = OnceLock::new();
    SCRATCH.get_or_init(|| {
        let tmp = std::env::temp_dir();
        remove_stale(&tmp);
        let base = tmp.join(format!("mdrun-fuzz-tar-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let outside = base.join("outside");
        fs::create_dir_all(&outside).expect("create the scratch dir");
        let mut root = base.clone();
        root.extend(LEVELS);
        let store = Store::new(Paths::new(root.join("root"), root.join("run")));
        // libFuzzer ends a run with exit(): remove the scratch dir then. (After a crash the
        // runner's temp dir goes, with this in it.)
        extern "C" fn cleanup() {
            let _ = fs::remove_dir_all(&scratch().base);
        }
        // SAFETY: registers a plain function with no arguments.
        unsafe { libc::atexit(cleanup) };
        Scratch {
            base,
            outside,
            store,
        }
    })
}

/// The scratch dirs of earlier runs that crashed (no exit handler ran): their pid is gone.
fn remove_stale(tmp: &Path) {
    for name in names(tmp) {
        let Some(pid) = name.strip_prefix("mdrun-fuzz-tar-") else {
            continue;
        };
        let Ok(pid) = pid.parse::<libc::pid_t>() else {
            continue;
        };
        // SAFETY: signal 0 only checks that the process exists.
        let gone = unsafe { libc::kill(pid, 0) } == -1
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone {
            let _ = fs::remove_dir_all(tmp.join(name));
        }
    }
}

fn names(dir: &Path) -> Vec<String> {
    match fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| {
                e.expect("read a scratch dir")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!("read {}: {e}", dir.display()),
    }
}

fn is_dir(p: &Path) -> bool {
    fs::symlink_metadata(p).is_ok_and(|m| m.is_dir())
}

fn is_file(p: &Path) -> bool {
    fs::symlink_metadata(p).is_ok_and(|m| m.is_file())
}

/// Panics when anything exists outside `<root>/layers/<id>/` but the store's own files.
fn check_contained(s: &Scratch, what: &str) {
    let escaped = |path: &Path| -> ! { panic!("{what}: an archive wrote {}", path.display()) };
    let mut dir = s.base.clone();
    for (i, next) in LEVELS.iter().chain(["root"].iter()).enumerate() {
        for name in names(&dir) {
            let ok = name == *next || (i == 0 && name == "outside");
            if !ok {
                escaped(&dir.join(name));
            }
        }
        dir.push(next);
    }
    if let Some(name) = names(&s.outside).first() {
        escaped(&s.outside.join(name));
    }
    if fs::symlink_metadata(CANARY).is_ok() {
        escaped(Path::new(CANARY));
    }
    let root = &s.store.paths.root;
    for name in names(root) {
        let path = root.join(&name);
        match name.as_str() {
            // The import's scratch dirs are gone once it returns.
            "tmp" => {
                if let Some(n) = names(&path).first() {
                    escaped(&path.join(n));
                }
            }
            "layers" => {
                for id in names(&path) {
                    let hex = id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit());
                    if !hex || !is_dir(&path.join(&id)) {
                        escaped(&path.join(id));
                    }
                }
            }
            "images" => {
                for file in names(&path) {
                    let ours = file == ".lock" || file.ends_with(".json");
                    if !ours || !is_file(&path.join(&file)) {
                        escaped(&path.join(file));
                    }
                }
            }
            // How each layer's stream was laid out (image/tar_split.rs): a file a layer.
            "tar-split" => {
                for id in names(&path) {
                    let hex = id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit());
                    if !hex || !is_file(&path.join(&id)) {
                        escaped(&path.join(id));
                    }
                }
            }
            _ => escaped(&path),
        }
    }
}

/// Rewrites the checksum of each header, walking the archive as a reader does: a header,
/// then its data rounded up to 512 bytes. All-zero blocks (the end) are left alone.
fn fix_checksums(bytes: &mut [u8]) {
    let mut at = 0usize;
    while bytes.len().checked_sub(at).is_some_and(|left| left >= 512) {
        let block: &mut [u8; 512] = (&mut bytes[at..at + 512]).try_into().unwrap();
        if block.iter().all(|&b| b == 0) {
            at += 512;
            continue;
        }
        let header = tar::Header::from_byte_slice(block);
        let size = header.entry_size().unwrap_or(0);
        block[148..156].fill(b' ');
        let sum: u32 = block.iter().map(|&b| u32::from(b)).sum();
        block[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        let data = size.div_ceil(512).saturating_mul(512);
        at = at
            .saturating_add(512)
            .saturating_add(usize::try_from(data).unwrap_or(usize::MAX));
    }
}

fn compressed(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b]) || bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, archive)) = data.split_first() else {
        return;
    };
    if archive.len() > MAX_INPUT {
        return;
    }
    let s = scratch();
    let mut bytes = archive.to_vec();
    if flags & 1 != 0 && !compressed(&bytes) {
        fix_checksums(&mut bytes);
    }
    let source = Box::new(Cursor::new(bytes));
    let what = if flags & 2 != 0 {
        if let Err(e) = s.store.load_archive(source) {
            drop(e.to_string());
        }
        "load"
    } else {
        match s.store.import(source, "fuzz:latest") {
            Ok(imported) => {
                // What a `run` does next with it.
                let image = s
                    .store
                    .resolve("fuzz:latest")
                    .expect("resolve what was imported");
                assert_eq!(image.id, imported.image.id);
                s.store
                    .check_present(&image)
                    .expect("the imported image is present");
            }
            Err(e) => drop(e.to_string()),
        }
        "import"
    };
    check_contained(s, what);
    let root = &s.store.paths.root;
    if let Err(e) = fs::remove_dir_all(root) {
        if e.kind() != std::io::ErrorKind::NotFound {
            panic!("remove the scratch store {}: {e}", root.display());
        }
    }
});

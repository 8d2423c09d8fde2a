//! `mdrun import FILE|- NAME[:TAG]`: a root filesystem tarball (plain, gzip or zstd, told
//! apart by magic bytes) becomes a single-layer image; prints its id like `docker import`.

use crate::cli::ImportArgs;
use crate::config::GlobalConfig;
use crate::error::{IoContext, Result};
use crate::image::Store;
use crate::paths::Paths;
use std::io::{Read, Write};

pub fn run(args: &ImportArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    import(
        &paths,
        &args.file,
        &args.reference,
        &mut std::io::stdout().lock(),
    )
}

/// `file` is a path or `-` (standard input). The id goes to `out`, warnings to stderr.
pub fn import(paths: &Paths, file: &str, reference: &str, out: &mut dyn Write) -> Result<i32> {
    let source: Box<dyn Read + Send> = if file == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(file).ctx("open", file)?)
    };
    let imported = Store::new(paths.clone()).import(source, reference)?;
    if imported.xattrs_skipped > 0 {
        eprintln!(
            "mdrun: warning: {} extended attribute(s) were not kept: the file system under {} \
             does not take them",
            imported.xattrs_skipped,
            paths.layers().display()
        );
    }
    writeln!(out, "sha256:{}", imported.image.id).ctx("write", "standard output")?;
    Ok(0)
}

//! `mdrun rmi IMAGE...`: untag, and delete images left without a name (refused while a
//! container was created from it). Like docker: goes through every argument, reports each
//! failure on stderr and exits 1 if any failed.

use crate::cli::RmiArgs;
use crate::config::GlobalConfig;
use crate::error::{IoContext, Result};
use crate::image::Store;
use crate::paths::Paths;
use std::io::Write;

pub fn run(args: &RmiArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    remove(
        &paths,
        &args.images,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    )
}

/// Prints `Untagged: name:tag` and `Deleted: sha256:<id>` lines to `out`, one `mdrun: ...`
/// line per failure to `err`. Returns the exit code: 0, or 1 if any reference failed.
pub fn remove(
    paths: &Paths,
    references: &[String],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32> {
    let store = Store::new(paths.clone());
    let mut code = 0;
    for reference in references {
        match store.remove(reference) {
            Ok(removed) => {
                let mut text = String::new();
                for name in &removed.untagged {
                    text.push_str(&format!("Untagged: {name}\n"));
                }
                if let Some(id) = &removed.deleted {
                    text.push_str(&format!("Deleted: sha256:{id}\n"));
                }
                out.write_all(text.as_bytes())
                    .ctx("write", "standard output")?;
            }
            Err(e) => {
                writeln!(err, "mdrun: {e}").ctx("write", "standard error")?;
                code = 1;
            }
        }
    }
    Ok(code)
}

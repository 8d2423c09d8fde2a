//! `mdrun completion bash|zsh|fish`: the shell's completion script (clap_complete), and
//! `mdrun __man DIR` (hidden): a man page for mdrun and one for each verb (clap_mangen:
//! `mdrun.1`, `mdrun-run.1` ...), both generated from the clap definitions at run time,
//! so that no build step is added to every build. install.sh installs both.

use crate::cli::{Cli, CompletionArgs, ManArgs};
use crate::error::{Error, IoContext, Result};
use clap::CommandFactory;
use std::path::Path;

pub fn completion(args: &CompletionArgs) -> Result<i32> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "mdrun", &mut std::io::stdout());
    Ok(0)
}

pub fn man(args: &ManArgs) -> Result<i32> {
    let dir = Path::new(&args.dir);
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "{}: not a directory",
            crate::quote::quoted(&args.dir)
        )));
    }
    let cmd = Cli::command();
    write_page(&cmd, "mdrun", dir)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("mdrun-{}", sub.get_name());
        // clap takes a 'static name without its `string` feature; a few bytes a page.
        let static_name: &'static str = Box::leak(name.clone().into_boxed_str());
        let sub = sub
            .clone()
            .name(static_name)
            .bin_name(name.replace('-', " "));
        write_page(&sub, &name, dir)?;
    }
    Ok(0)
}

fn write_page(cmd: &clap::Command, name: &str, dir: &Path) -> Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .title(name.to_uppercase())
        .render(&mut page)
        .ctx("render the man page", dir)?;
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, page).ctx("write", &path)
}

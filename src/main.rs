//! The `mdrun` binary: parse the command line, run the verb, turn errors into one line on
//! stderr and docker's exit codes (125 runtime error, 126 cannot execute, 127 not found).

use clap::Parser;
use mdrun::cli::{self, Cli, Command};
use mdrun::commands;

fn main() {
    let args = cli::with_default_verb(std::env::args_os().collect());
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 125 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let result = match &cli.command {
        Command::Run(a) => commands::run::run(a),
        Command::Import(a) => commands::import::run(a),
        Command::Images(a) => commands::images::run(a),
        Command::Rmi(a) => commands::rmi::run(a),
        Command::Ps(a) => commands::ps::run(a),
        Command::Inspect(a) => commands::inspect::run(a),
        Command::Stop(a) => commands::stop::run(a),
        Command::Kill(a) => commands::kill::run(a),
        Command::Wait(a) => commands::wait::run(a),
        Command::Rm(a) => commands::rm::run(a),
        Command::Prune(a) => commands::prune::run(a),
        Command::Exec(a) => commands::exec::run(a),
        Command::Start(a) => commands::start::run(a),
        Command::Logs(a) => commands::logs::run(a),
        Command::Commit(a) => commands::commit::run(a),
        Command::Export(a) => commands::export::run(a),
        Command::Save(a) => commands::save::run(a),
        Command::Load(a) => commands::load::run(a),
    };
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mdrun: {e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}

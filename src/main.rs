//! The `mdrun` binary: parse the command line, run the verb, turn errors into one line on
//! stderr and docker's exit codes (125 runtime error, 126 cannot execute, 127 not found).

use clap::Parser;
use mdrun::cli::{self, Cli, Command};
use mdrun::commands;
use mdrun::quote::cap;

fn main() {
    let args = cli::with_default_verb(std::env::args_os().collect());
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help, --version
            let _ = e.print();
            std::process::exit(0);
        }
        Err(e) => {
            // One line, like every other mdrun error: clap's first line without its prefix.
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            eprintln!(
                "mdrun: {}",
                one_line(&cap(first.trim_start_matches("error: ")))
            );
            std::process::exit(125);
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
        Command::Pull(a) => commands::pull::run(a),
        Command::Push(a) => commands::push::run(a),
        Command::Login(a) => commands::login::login(a),
        Command::Logout(a) => commands::login::logout(a),
        Command::Tag(a) => commands::pull::tag(a),
        Command::History(a) => commands::history::run(a),
        Command::Restart(a) => commands::restart::run(a),
        Command::Healthcheck(a) => commands::healthcheck::run(a),
        Command::Supervise(a) => commands::supervise::run(a),
        Command::Network(a) => commands::network::run(a),
        Command::Port(a) => commands::network::port(a),
        Command::Pause(a) => commands::pause::pause(a),
        Command::Unpause(a) => commands::pause::unpause(a),
        Command::Update(a) => commands::update::run(a),
        Command::Stats(a) => commands::stats::run(a),
        Command::Top(a) => commands::top::run(a),
        Command::Rename(a) => commands::rename::run(a),
        Command::Diff(a) => commands::diff::run(a),
        Command::Cp(a) => commands::cp::run(a),
        Command::Events(a) => commands::events::run(a),
        Command::Completion(a) => commands::completion::completion(a),
        Command::Man(a) => commands::completion::man(a),
    };
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mdrun: {}", one_line(&cap(&e.to_string())));
            e.exit_code()
        }
    };
    std::process::exit(code);
}

/// Errors are one line: messages from libraries (a tar header's bytes, say) can carry
/// newlines and control characters, which are escaped here. Values users gave are cut
/// where the message quotes them (`mdrun::quote`); `cap` cuts what a library echoed.
fn one_line(msg: &str) -> String {
    msg.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' '.to_string(),
            c if c.is_control() => c.escape_default().to_string(),
            c => c.to_string(),
        })
        .collect()
}

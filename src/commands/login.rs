//! `mdrun login [-u USER] [--password-stdin] [REGISTRY]` and `mdrun logout [REGISTRY]`:
//! credentials where podman and docker look for them (see `registry::auth`).

use crate::cli::{LoginArgs, LogoutArgs};
use crate::error::{Error, IoContext, Result};
use crate::registry::{self, Options};
use std::io::{BufRead, IsTerminal, Write};

pub fn login(args: &LoginArgs) -> Result<i32> {
    let user = match &args.username {
        Some(u) => u.clone(),
        None => prompt("Username: ")?,
    };
    let password = match (&args.password, args.password_stdin) {
        (Some(_), true) => {
            return Err(Error::Usage(
                "--password and --password-stdin cannot be used together".into(),
            ))
        }
        (Some(p), false) => p.clone(),
        (None, true) => read_line(&mut std::io::stdin().lock())?,
        (None, false) => {
            if !std::io::stdin().is_terminal() {
                return Err(Error::Usage(
                    "no password: use --password-stdin, or run on a terminal".into(),
                ));
            }
            prompt("Password: ")?
        }
    };
    if user.is_empty() || password.is_empty() {
        return Err(Error::Usage(
            "the user name and password must not be empty".into(),
        ));
    }
    registry::login(
        args.server.as_deref(),
        &user,
        &password,
        &Options::from(&args.registry),
    )?;
    println!("Login Succeeded!");
    Ok(0)
}

pub fn logout(args: &LogoutArgs) -> Result<i32> {
    let server = args.server.as_deref().unwrap_or("docker.io");
    match registry::logout(args.server.as_deref(), args.authfile.as_deref())? {
        true => println!("Removed login credentials for {server}"),
        false => {
            return Err(Error::Usage(format!("not logged in to {server}")));
        }
    }
    Ok(0)
}

fn prompt(text: &str) -> Result<String> {
    eprint!("{text}");
    let _ = std::io::stderr().flush();
    read_line(&mut std::io::stdin().lock())
}

fn read_line(input: &mut dyn BufRead) -> Result<String> {
    let mut line = String::new();
    input.read_line(&mut line).ctx("read", "standard input")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

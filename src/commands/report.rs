//! The multi-container verbs (`stop`, `kill`, `rm`, `wait`) as docker runs them: each
//! argument in turn; a success prints the argument as given on stdout, a failure one
//! `mdrun: ...` line on stderr; the exit code is 0, or that of the last failure (125 for
//! every error of these verbs) once all arguments have been tried.

use crate::error::Result;
use std::io::Write;

pub fn each(queries: &[String], mut act: impl FnMut(&str) -> Result<()>) -> i32 {
    each_printing(queries, |q| act(q).map(|()| q.to_string()))
}

/// Like `each`, printing what `act` returns instead of the argument.
pub fn each_printing(queries: &[String], mut act: impl FnMut(&str) -> Result<String>) -> i32 {
    let mut code = 0;
    for query in queries {
        match act(query) {
            Ok(line) => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}").and_then(|()| out.flush());
            }
            Err(e) => {
                eprintln!("mdrun: {e}");
                code = e.exit_code();
            }
        }
    }
    code
}

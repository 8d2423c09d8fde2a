//! `mdrun history [--no-trunc] [-q] IMAGE`: how an image was made, newest step first, as
//! docker lays it out (IMAGE, CREATED, CREATED BY, SIZE, COMMENT; the image's id on the
//! top row, `<missing>` below, as docker shows steps with no image of their own).

use super::human::{human_duration, table};
use super::images::human_size;
use crate::cli::HistoryArgs;
use crate::config::GlobalConfig;
use crate::error::{IoContext, Result};
use crate::image::{HistoryRow, Store};
use crate::paths::Paths;
use std::io::Write;

/// docker truncates CREATED BY to this many characters, the last one an ellipsis.
const CREATED_BY_WIDTH: usize = 45;

pub fn run(args: &HistoryArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let store = Store::new(Paths::open(&global.root, &global.run_root)?);
    let image = store.resolve(&args.image)?;
    let rows = store.history(&image)?;
    let short = crate::ids::short(&image.id).to_string();
    let text = match args.quiet {
        true => format!("{short}\n"),
        false => history_table(&rows, &short, crate::time::unix_secs(), args.no_trunc),
    };
    std::io::stdout()
        .write_all(text.as_bytes())
        .ctx("write", "standard output")?;
    Ok(0)
}

fn history_table(rows: &[HistoryRow], id: &str, now: u64, no_trunc: bool) -> String {
    let mut out = vec![["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"].map(String::from)];
    for (n, row) in rows.iter().rev().enumerate() {
        let created = match row.created {
            Some(t) => format!("{} ago", human_duration(now.saturating_sub(t))),
            None => "<unknown>".to_string(),
        };
        let by = row.created_by.replace(['\n', '\t'], " ");
        let by = match no_trunc || by.chars().count() <= CREATED_BY_WIDTH {
            true => by,
            false => by.chars().take(CREATED_BY_WIDTH - 1).collect::<String>() + "…",
        };
        out.push([
            if n == 0 {
                id.to_string()
            } else {
                "<missing>".to_string()
            },
            created,
            by,
            human_size(row.size),
            row.comment.clone(),
        ]);
    }
    table(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_step_first_and_long_commands_truncated() {
        let row = |t, by: &str, size| HistoryRow {
            created: Some(t),
            created_by: by.to_string(),
            comment: String::new(),
            size,
        };
        let long = "/bin/sh -c #(nop) ADD file:0123456789abcdef0123456789 in /";
        let rows = [row(400, long, 4_260_000), row(700, "CMD [\"sh\"]", 0)];
        let text = history_table(&rows, "abcdefabcdef", 1000, false);
        let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
        assert_eq!(lines[0], "IMAGE          CREATED          CREATED BY                                      SIZE      COMMENT");
        assert_eq!(
            lines[1],
            "abcdefabcdef   5 minutes ago    CMD [\"sh\"]                                      0B"
        );
        assert_eq!(lines[2], "<missing>      10 minutes ago   /bin/sh -c #(nop) ADD file:0123456789abcdef0…   4.26MB");
    }
}

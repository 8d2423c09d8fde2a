//! What people read in listings: docker's table layout and its human durations.

/// docker's `units.HumanDuration`: "Less than a second", "5 seconds", "About a minute"...
pub fn human_duration(secs: u64) -> String {
    let minutes = secs / 60;
    let hours = (secs + 1800) / 3600; // rounded, as docker does
    match secs {
        0 => "Less than a second".to_string(),
        1 => "1 second".to_string(),
        s if s < 60 => format!("{s} seconds"),
        _ if minutes == 1 => "About a minute".to_string(),
        _ if minutes < 60 => format!("{minutes} minutes"),
        _ if hours == 1 => "About an hour".to_string(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", secs / 3600 / 24 / 365),
    }
}

/// Seconds from `then` to `now` (Unix seconds), never negative.
pub fn elapsed(now: f64, then: f64) -> u64 {
    if now > then {
        (now - then) as u64
    } else {
        0
    }
}

/// Rows laid out as docker's tabwriter does (minimum width 10, padding 3); trailing
/// blanks of each line are dropped.
pub fn table<R: AsRef<[String]>>(rows: &[R]) -> String {
    let columns = rows.iter().map(|r| r.as_ref().len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.as_ref().get(c))
                .map(|s| s.chars().count() + 3)
                .max()
                .unwrap_or(0)
                .max(10)
        })
        .collect();
    let mut text = String::new();
    for row in rows {
        let row = row.as_ref();
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < row.len() {
                line.push_str(&" ".repeat(widths[c] - cell.chars().count()));
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_docker() {
        assert_eq!(human_duration(0), "Less than a second");
        assert_eq!(human_duration(1), "1 second");
        assert_eq!(human_duration(5), "5 seconds");
        assert_eq!(human_duration(90), "About a minute");
        assert_eq!(human_duration(125), "2 minutes");
        assert_eq!(human_duration(3600), "About an hour");
        assert_eq!(human_duration(5 * 3600), "5 hours");
        assert_eq!(human_duration(3 * 86400), "3 days");
        assert_eq!(human_duration(800 * 86400), "2 years");
        assert_eq!(elapsed(10.0, 12.5), 0);
        assert_eq!(elapsed(12.9, 10.0), 2);
    }

    #[test]
    fn tables_pad_to_ten_or_three_past_the_widest() {
        let rows = vec![
            vec![
                "A".to_string(),
                "LONGER HEADER".to_string(),
                "Z".to_string(),
            ],
            vec!["aaaaaaaaaaaa".to_string(), "b".to_string(), String::new()],
        ];
        let text = table(&rows);
        assert_eq!(text, "A              LONGER HEADER   Z\naaaaaaaaaaaa   b\n");
    }
}

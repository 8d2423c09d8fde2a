//! `mdrun images [-q] [--digests] [--format table|json|TEMPLATE]`: the image list, laid out
//! like docker's (`--digests`: the manifest digest each name was pulled or pushed as; a Go
//! template: `images_format.rs`).

use super::go_template::Format;
use super::human::{human_duration, table};
use crate::cli::ImagesArgs;
use crate::config::GlobalConfig;
use crate::error::{Error, IoContext, Result};
use crate::image::{Image, Store};
use crate::paths::Paths;
use std::io::Write;

pub fn run(args: &ImagesArgs) -> Result<i32> {
    let global = GlobalConfig::load()?;
    let paths = Paths::open(&global.root, &global.run_root)?;
    if let Some(template) = Format::parse(&args.format).filter(|_| !args.quiet) {
        let store = Store::new(paths);
        let images = store.list()?;
        let mut digests = Vec::new();
        for image in &images {
            digests.push(store.repo_digests(&image.id)?);
        }
        let text =
            super::images_format::render(&template, &images, &digests, crate::time::unix_secs())?;
        std::io::stdout()
            .write_all(text.as_bytes())
            .ctx("write", "standard output")?;
        return Ok(0);
    }
    if args.digests && !args.quiet && args.format == "table" {
        let store = Store::new(paths);
        let images = store.list()?;
        let mut digests = Vec::new();
        for image in &images {
            digests.push(store.repo_digests(&image.id)?);
        }
        let text = image_table(&images, crate::time::unix_secs(), Some(&digests));
        std::io::stdout()
            .write_all(text.as_bytes())
            .ctx("write", "standard output")?;
        return Ok(0);
    }
    list(
        &paths,
        args.quiet,
        &args.format,
        &mut std::io::stdout().lock(),
    )
}

/// `format` is `table` or `json` (or, with `quiet`, a template: ignored as docker does);
/// `quiet` prints only short ids, one per image.
pub fn list(paths: &Paths, quiet: bool, format: &str, out: &mut dyn Write) -> Result<i32> {
    let template = quiet && Format::parse(format).is_some();
    if !matches!(format, "table" | "json") && !template {
        return Err(Error::Usage(format!(
            "unknown --format {}: use table, json or a Go template",
            crate::quote::quoted(format)
        )));
    }
    let images = Store::new(paths.clone()).list()?;
    let text = if quiet {
        images
            .iter()
            .map(|i| format!("{}\n", crate::ids::short(&i.id)))
            .collect()
    } else if format == "json" {
        serde_json::to_string_pretty(&images).expect("images serialize") + "\n"
    } else {
        image_table(&images, crate::time::unix_secs(), None)
    };
    out.write_all(text.as_bytes())
        .ctx("write", "standard output")?;
    Ok(0)
}

/// The table: one row per tag, `<none>` for an untagged image; with `digests` (each
/// image's `repo@digest`s, in the order of `images`), a DIGEST column.
fn image_table(images: &[Image], now: u64, digests: Option<&[Vec<String>]>) -> String {
    let mut head: Vec<String> = ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]
        .map(String::from)
        .to_vec();
    if digests.is_some() {
        head.insert(2, "DIGEST".to_string());
    }
    let mut rows = vec![head];
    for (n, image) in images.iter().enumerate() {
        let created = format!("{} ago", human_duration(now.saturating_sub(image.created)));
        let mut row = |repo: &str, tag: &str| {
            let short = crate::ids::short(&image.id).to_string();
            let mut row = vec![
                repo.to_string(),
                tag.to_string(),
                short,
                created.clone(),
                human_size(image.size),
            ];
            if let Some(all) = digests {
                let digest = all[n]
                    .iter()
                    .find_map(|d| d.split_once('@').filter(|(r, _)| *r == repo))
                    .map_or("<none>", |(_, d)| d);
                row.insert(2, digest.to_string());
            }
            rows.push(row);
        };
        if image.names.is_empty() {
            row("<none>", "<none>");
        }
        for name in &image.names {
            let (repo, tag) = name.rsplit_once(':').unwrap_or((name, "<none>"));
            row(repo, tag);
        }
    }
    table(&rows)
}

/// docker's `units.HumanSizeWithPrecision(size, 3)`: decimal units, 3 significant digits.
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit < UNITS.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    let int_digits = if size < 1.0 {
        1
    } else {
        size.log10().floor() as usize + 1
    };
    let decimals = 3usize.saturating_sub(int_digits);
    let mut number = format!("{size:.decimals$}");
    if number.contains('.') {
        number = number
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string();
    }
    format!("{number}{}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::ImageConfig;

    #[test]
    fn sizes_read_like_docker() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(2_100_000), "2.1MB");
        assert_eq!(human_size(4_261_000), "4.26MB");
        assert_eq!(human_size(72_800_000), "72.8MB");
        assert_eq!(human_size(128_000_000), "128MB");
        assert_eq!(human_size(1_240_000_000), "1.24GB");
    }

    #[test]
    fn table_has_a_row_per_tag_and_none_for_untagged() {
        let image = |id: &str, names: &[&str]| Image {
            id: id.repeat(64),
            names: names.iter().map(|n| n.to_string()).collect(),
            layers: vec![],
            created: 1000 - 300,
            size: 2_100_000,
            config: ImageConfig::for_rootfs(),
        };
        let text = image_table(
            &[image("a", &["busybox:latest", "bb:1"]), image("b", &[])],
            1000,
            None,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "REPOSITORY   TAG       IMAGE ID       CREATED         SIZE"
        );
        assert_eq!(
            lines[1],
            "busybox      latest    aaaaaaaaaaaa   5 minutes ago   2.1MB"
        );
        assert_eq!(
            lines[2],
            "bb           1         aaaaaaaaaaaa   5 minutes ago   2.1MB"
        );
        assert_eq!(
            lines[3],
            "<none>       <none>    bbbbbbbbbbbb   5 minutes ago   2.1MB"
        );
    }
}

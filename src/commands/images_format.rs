//! `images --format` with docker's Go templates (`{{.Repository}}:{{.Tag}}`,
//! `table {{.ID}}\t{{.Size}}`), through the same template engine as `ps`
//! (`go_template.rs`): one object per row of the table (per name; `<none>` for an untagged
//! image), with docker's field names and, under `table`, its column headers.

use super::go_template::{Fields, Format};
use super::human::human_duration;
use super::images::human_size;
use crate::error::Result;
use crate::image::Image;

/// The rows of `images` (with each one's `repo@digest`s, in the same order) through
/// `template`.
pub fn render(
    template: &Format,
    images: &[Image],
    digests: &[Vec<String>],
    now: u64,
) -> Result<String> {
    let mut objects = Vec::new();
    for (image, digests) in images.iter().zip(digests) {
        let names: Vec<(&str, &str)> = match image.names.is_empty() {
            true => vec![("<none>", "<none>")],
            false => image
                .names
                .iter()
                .map(|n| n.rsplit_once(':').unwrap_or((n, "<none>")))
                .collect(),
        };
        for (repo, tag) in names {
            let digest = digests
                .iter()
                .find_map(|d| d.split_once('@').filter(|(r, _)| *r == repo))
                .map_or("<none>", |(_, d)| d);
            objects.push(fields(image, repo, tag, digest, now));
        }
    }
    template.render(&objects, &headers())
}

fn fields(image: &Image, repo: &str, tag: &str, digest: &str, now: u64) -> Fields {
    let size = human_size(image.size);
    let pairs: [(&str, String); 9] = [
        ("ID", crate::ids::short(&image.id).to_string()),
        ("Repository", repo.to_string()),
        ("Tag", tag.to_string()),
        ("Digest", digest.to_string()),
        (
            "CreatedSince",
            format!("{} ago", human_duration(now.saturating_sub(image.created))),
        ),
        ("CreatedAt", crate::time::rfc3339(image.created as f64)),
        ("Size", size.clone()),
        ("VirtualSize", size),
        ("Containers", "N/A".to_string()),
    ];
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), gtmpl::Value::from(v)))
        .collect()
}

/// What `table` puts above each field's column (docker's headers).
fn headers() -> Fields {
    [
        ("ID", "IMAGE ID"),
        ("Repository", "REPOSITORY"),
        ("Tag", "TAG"),
        ("Digest", "DIGEST"),
        ("CreatedSince", "CREATED"),
        ("CreatedAt", "CREATED AT"),
        ("Size", "SIZE"),
        ("VirtualSize", "VIRTUAL SIZE"),
        ("Containers", "CONTAINERS"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), gtmpl::Value::from(v.to_string())))
    .collect()
}

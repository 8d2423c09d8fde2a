//! Blob uploads: `HEAD` first (a blob the registry has is not sent again), then a
//! cross-repository mount from a repository of the same registry that may have it, then
//! an upload: monolithic (`POST`, then `PUT ?digest=` with the body) for blobs up to
//! [`CHUNK`], chunked (`PATCH` with `Content-Range`, one chunk at a time, then an empty
//! `PUT ?digest=`) above.

use super::client::Client;
use super::RegistryError;
use std::io::Read;
use std::path::Path;

/// The largest blob sent in one request, and the size of each chunk of a bigger one.
pub(crate) const CHUNK: u64 = 8 << 20;

/// The blob's size when the registry has it (`HEAD /v2/<repo>/blobs/<digest>`).
pub(crate) fn has_blob(client: &Client, digest: &str) -> Result<Option<u64>, RegistryError> {
    match client.request("HEAD", &client.path(&format!("blobs/{digest}")), &[], None) {
        Ok(resp) => Ok(Some(
            resp.header("Content-Length")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
        )),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// What a cross-repository mount did.
pub(crate) enum Mount {
    Mounted,
    /// The registry started an upload instead (202): its location.
    Session(String),
}

/// Asks the registry to mount `digest` from repository `from` of the same registry.
pub(crate) fn mount(client: &Client, digest: &str, from: &str) -> Result<Mount, RegistryError> {
    let path = client.path(&format!("blobs/uploads/?mount={digest}&from={from}"));
    let resp = client.request("POST", &path, &[], Some(&[]))?;
    match resp.status() {
        201 => Ok(Mount::Mounted),
        _ => Ok(Mount::Session(location(client, &resp)?)),
    }
}

/// Cancels an upload session no blob will be sent to (best effort: the registry
/// forgets stale sessions anyway).
pub(crate) fn cancel(client: &Client, session: Option<String>) {
    if let Some(location) = session {
        let _ = client.request("DELETE", &location, &[], None);
    }
}

/// Starts an upload: the location to send the blob to.
fn start(client: &Client) -> Result<String, RegistryError> {
    let resp = client.request("POST", &client.path("blobs/uploads/"), &[], Some(&[]))?;
    location(client, &resp)
}

fn location(client: &Client, resp: &ureq::Response) -> Result<String, RegistryError> {
    resp.header("Location")
        .map(str::to_string)
        .ok_or_else(|| client.fail("the registry started an upload without a Location"))
}

/// `location` with `?digest=` (or `&digest=`) added.
fn with_digest(location: &str, digest: &str) -> String {
    let sep = if location.contains('?') { '&' } else { '?' };
    format!("{location}{sep}digest={digest}")
}

/// Uploads the file `path` (`size` bytes) as blob `digest`, at `session` if a mount
/// attempt started one. `on_bytes` counts what was sent.
pub(crate) fn upload_file(
    client: &Client,
    path: &Path,
    digest: &str,
    size: u64,
    session: Option<String>,
    on_bytes: &dyn Fn(u64),
) -> Result<(), RegistryError> {
    let mut file = std::fs::File::open(path)
        .map_err(|e| client.fail(format!("open {}: {e}", path.display())))?;
    let mut location = match session {
        Some(l) => l,
        None => start(client)?,
    };
    let read_err = |e: std::io::Error| client.fail(format!("read {}: {e}", path.display()));
    let octets = ("Content-Type", "application/octet-stream");
    if size <= CHUNK {
        let mut body = Vec::with_capacity(size as usize);
        file.read_to_end(&mut body).map_err(read_err)?;
        client.request(
            "PUT",
            &with_digest(&location, digest),
            &[octets],
            Some(&body),
        )?;
        on_bytes(size);
        return Ok(());
    }
    let mut sent = 0u64;
    let mut chunk = Vec::with_capacity(CHUNK as usize);
    while sent < size {
        chunk.clear();
        (&mut file)
            .take(CHUNK)
            .read_to_end(&mut chunk)
            .map_err(read_err)?;
        if chunk.is_empty() {
            return Err(client.fail(format!(
                "{} ended after {sent} of {size} bytes",
                path.display()
            )));
        }
        let range = format!("{sent}-{}", sent + chunk.len() as u64 - 1);
        let resp = client.request(
            "PATCH",
            &location,
            &[octets, ("Content-Range", &range)],
            Some(&chunk),
        )?;
        location = location_of(client, &resp, location)?;
        sent += chunk.len() as u64;
        on_bytes(chunk.len() as u64);
        crate::stop_point::reached("push:chunk");
    }
    client.request("PUT", &with_digest(&location, digest), &[octets], Some(&[]))?;
    Ok(())
}

/// The location for the next request: the one the registry gave, else the same.
fn location_of(
    client: &Client,
    resp: &ureq::Response,
    old: String,
) -> Result<String, RegistryError> {
    match resp.header("Location") {
        Some(_) => location(client, resp),
        None => Ok(old),
    }
}

/// Uploads `bytes` as blob `digest` (a config) unless the registry has it.
pub(crate) fn upload_bytes(
    client: &Client,
    bytes: &[u8],
    digest: &str,
) -> Result<(), RegistryError> {
    if has_blob(client, digest)?.is_some() {
        return Ok(());
    }
    let location = start(client)?;
    let octets = ("Content-Type", "application/octet-stream");
    client.request(
        "PUT",
        &with_digest(&location, digest),
        &[octets],
        Some(bytes),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_added_to_the_location_query() {
        assert_eq!(
            with_digest("/v2/a/blobs/uploads/u", "sha256:1"),
            "/v2/a/blobs/uploads/u?digest=sha256:1"
        );
        assert_eq!(
            with_digest("http://h/v2/a/blobs/uploads/u?_state=x", "sha256:1"),
            "http://h/v2/a/blobs/uploads/u?_state=x&digest=sha256:1"
        );
    }
}

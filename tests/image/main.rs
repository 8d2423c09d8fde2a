//! Area `image`: images into and out of the store, a file a verb.
//!
//! - import.rs: `import` (plain, gzip, zstd, standard input)
//! - images.rs: `images` (table, json, Go templates), and an image named by a prefix of its id
//! - rmi.rs: `rmi`
//! - commit.rs: `commit`, of stopped and running containers
//! - export.rs: `export`
//! - save_load.rs: `save`, `load`
//! - podman.rs: OCI archives to and from Debian's podman
//! - volumes.rs: an image's VOLUMEs as anonymous volumes
//!
//! Refused tarballs (`import` of hostile archives): tests/running/bad_input.rs.

#[path = "../common/mod.rs"]
mod common;

mod commit;
mod export;
mod images;
mod import;
mod podman;
mod rmi;
mod save_load;
mod volumes;

//! Area `image`: images in and out of the store, one file a verb.
//!
//! | file | verbs |
//! |---|---|
//! | import.rs | `import`, `images`, `rmi` |
//! | commit.rs | `commit`, of stopped and running containers |
//! | export.rs | `export`, `save`, `load` |
//! | podman.rs | OCI archives to and from Debian's podman |
//!
//! Refused tarballs (`import` of hostile archives): tests/running/bad_input.rs.

#[path = "../common/mod.rs"]
mod common;

mod commit;
mod export;
mod import;
mod podman;

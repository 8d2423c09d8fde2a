//! Area `harness`: the test harness (tests/common) and the test tree check themselves.
//!
//! - self_check.rs: the busybox fixture, a clean scenario, leaks found
//! - layout.rs: every test file is in an area, declared in its main.rs, the area in Cargo.toml

#[path = "../common/mod.rs"]
mod common;

mod layout;
mod self_check;

//! Area `harness`: the test harness (tests/common) checks itself.
//!
//! | file | what |
//! |---|---|
//! | self_check.rs | the busybox fixture, a clean scenario, leaks found |
//! | layout.rs | every test file is in an area, declared in its main.rs and Cargo.toml |

#[path = "../common/mod.rs"]
mod common;

mod layout;
mod self_check;

//! Area `harness`: the test harness (tests/common) checks itself.
//!
//! | file | what |
//! |---|---|
//! | self_check.rs | the busybox fixture, a clean scenario, leaks found |

#[path = "../common/mod.rs"]
mod common;

mod self_check;

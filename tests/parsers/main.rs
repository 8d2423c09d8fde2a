//! Area `parsers`: the parsers of user input on their own, without containers.
//!
//! - fuzz.rs: randomised robustness tests of every parser (the libFuzzer targets: tests/fuzz)

#[path = "../common/mod.rs"]
mod common;

mod fuzz;

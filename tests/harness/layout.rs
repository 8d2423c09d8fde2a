//! The test tree's layout: every integration test is in an area, `tests/<area>/main.rs`, one
//! binary each, listed as a `[[test]]` in Cargo.toml, and every file of an area is declared
//! in its main.rs. A file that is not would never be built, and its tests would never run.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The `mod NAME;` declarations of a main.rs (with or without attributes or `pub`).
fn declared_modules(main: &str) -> BTreeSet<String> {
    main.lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("pub ").or(Some(l)))
        .filter_map(|l| l.strip_prefix("mod ")?.strip_suffix(';'))
        .map(str::to_string)
        .collect()
}

/// The `[[test]]` targets of Cargo.toml, as (name, path).
fn test_targets() -> BTreeSet<(String, String)> {
    let path = Path::new(ROOT).join("Cargo.toml");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let manifest: toml::Table = text.parse().unwrap_or_else(|e| panic!("Cargo.toml: {e}"));
    let Some(targets) = manifest.get("test").and_then(|t| t.as_array()) else {
        return BTreeSet::new();
    };
    targets
        .iter()
        .map(|t| {
            let field = |k: &str| t.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
            (field("name"), field("path"))
        })
        .collect()
}

#[test]
fn every_test_file_is_in_an_area_that_declares_it() {
    let tests = Path::new(ROOT).join("tests");
    let mut problems = Vec::new();
    let mut areas = BTreeSet::new();
    for entry in fs::read_dir(&tests).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_file() && name.ends_with(".rs") {
            problems.push(format!(
                "tests/{name}: cargo builds it alone; move it into an area (tests/<area>/)"
            ));
        }
        if !path.join("main.rs").is_file() {
            continue; // common, fixtures, fuzz, vm: not areas
        }
        areas.insert(name.clone());
        let declared = declared_modules(&fs::read_to_string(path.join("main.rs")).unwrap());
        for file in fs::read_dir(&path).unwrap().flatten() {
            let file_name = file.file_name().to_string_lossy().into_owned();
            let module = match file_name.strip_suffix(".rs") {
                Some("main") => continue,
                Some(stem) => stem.to_string(),
                None if file.path().join("mod.rs").is_file() => file_name.clone(),
                None => continue,
            };
            if !declared.contains(&module) {
                problems.push(format!(
                    "tests/{name}/{file_name}: not declared in tests/{name}/main.rs \
                     (`mod {module};`), so never built"
                ));
            }
        }
    }
    let targets = test_targets();
    for area in &areas {
        let want = (area.clone(), format!("tests/{area}/main.rs"));
        if !targets.contains(&want) {
            problems.push(format!(
                "tests/{area}/: no [[test]] name = \"{area}\", path = \"{}\" in Cargo.toml",
                want.1
            ));
        }
    }
    assert!(!areas.is_empty(), "no area found under {}", tests.display());
    assert!(
        problems.is_empty(),
        "the test tree's layout:\n  {}",
        problems.join("\n  ")
    );
}

//! Which container the user means. Every command accepts a name, a full id or a unique
//! prefix of an id, tried in docker's order: an exact id, then an exact name, then an id
//! prefix. A prefix that fits several ids is an error listing them; nothing is guessed.

use super::{Record, StateError};
use crate::paths::Paths;

/// The record of the container `query` names.
pub fn resolve(paths: &Paths, query: &str) -> Result<Record, StateError> {
    // A full id names its directory: one read instead of reading every record.
    if is_full_id(query) {
        if let Ok(record) = Record::load(&paths.container(query)) {
            return Ok(record);
        }
    }
    pick(Record::list(&paths.containers()), query)
}

/// `query` among `records`: exact id, exact name, then unique id prefix.
pub fn pick(records: Vec<Record>, query: &str) -> Result<Record, StateError> {
    let no_such = || StateError::NoSuchContainer {
        query: query.to_string(),
    };
    if query.is_empty() {
        return Err(no_such());
    }
    if let Some(i) = records.iter().position(|r| r.id == query) {
        return Ok(records.into_iter().nth(i).expect("position is in range"));
    }
    if let Some(i) = records.iter().position(|r| r.name == query) {
        return Ok(records.into_iter().nth(i).expect("position is in range"));
    }
    if !query.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(no_such());
    }
    let mut matches: Vec<Record> = records
        .into_iter()
        .filter(|r| r.id.starts_with(query))
        .collect();
    match matches.len() {
        0 => Err(no_such()),
        1 => Ok(matches.pop().expect("one match")),
        _ => {
            matches.sort_by(|a, b| a.id.cmp(&b.id));
            Err(StateError::AmbiguousPrefix {
                query: query.to_string(),
                matches: matches
                    .iter()
                    .map(|r| format!("{} ({})", crate::ids::short(&r.id), r.name))
                    .collect(),
            })
        }
    }
}

/// 64 lowercase hex digits: safe to use as a path component.
pub fn is_full_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::record::tests::sample;

    fn records() -> Vec<Record> {
        vec![
            sample(&format!("abc1{}", "0".repeat(60)), "web"),
            sample(&format!("abc2{}", "0".repeat(60)), "db"),
            sample(&format!("def0{}", "0".repeat(60)), "abc1"),
        ]
    }

    #[test]
    fn a_full_id_a_name_and_a_unique_prefix_resolve() {
        let id = format!("abc2{}", "0".repeat(60));
        assert_eq!(pick(records(), &id).unwrap().name, "db");
        assert_eq!(
            pick(records(), "web").unwrap().id,
            format!("abc1{}", "0".repeat(60))
        );
        assert_eq!(pick(records(), "abc2").unwrap().name, "db");
        assert_eq!(pick(records(), "d").unwrap().name, "abc1");
    }

    #[test]
    fn a_name_wins_over_an_id_prefix() {
        // "abc1" is both a name (of def0...) and a prefix of web's id: docker takes the name.
        assert_eq!(
            pick(records(), "abc1").unwrap().id,
            format!("def0{}", "0".repeat(60))
        );
    }

    #[test]
    fn an_ambiguous_prefix_lists_the_matches() {
        let err = pick(records(), "abc").unwrap_err();
        assert!(
            matches!(&err, StateError::AmbiguousPrefix { matches, .. } if matches.len() == 2),
            "{err}"
        );
        let text = err.to_string();
        assert!(
            text.contains("abc100000000 (web)") && text.contains("abc200000000 (db)"),
            "{text}"
        );
    }

    #[test]
    fn unknown_names_and_empty_queries_are_no_such_container() {
        for q in ["nope", "", "abd", "web2", "ABC1"] {
            let err = pick(records(), q).unwrap_err();
            assert!(
                matches!(err, StateError::NoSuchContainer { .. }),
                "{q}: {err}"
            );
        }
        assert_eq!(
            pick(records(), "nope").unwrap_err().to_string(),
            "no such container \"nope\""
        );
    }

    #[test]
    fn only_full_lowercase_hex_ids_are_taken_as_paths() {
        assert!(is_full_id(&"a".repeat(64)));
        assert!(!is_full_id(&"a".repeat(63)));
        assert!(!is_full_id(&format!("../{}", "a".repeat(61))));
        assert!(!is_full_id(&"A".repeat(64)));
    }
}

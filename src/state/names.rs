//! Generated container names, docker style: `adjective_noun`.

const ADJECTIVES: &[&str] = &[
    "agile", "bold", "brave", "calm", "clever", "eager", "fair", "gentle", "happy", "jolly",
    "keen", "lucid", "merry", "nimble", "proud", "quiet", "rapid", "sharp", "steady", "swift",
    "tender", "vivid", "wise", "zen",
];
const NOUNS: &[&str] = &[
    "babbage", "curie", "darwin", "euler", "fermat", "gauss", "hopper", "kepler", "lamport",
    "lovelace", "noether", "pascal", "ritchie", "shannon", "thompson", "torvalds", "turing",
    "wozniak",
];

/// A name from the id's first bytes, with a short id suffix so collisions are rare; the
/// caller still checks uniqueness under the store lock.
pub fn generate_name(id: &str) -> String {
    let n = u64::from_str_radix(&id[..8.min(id.len())], 16).unwrap_or(0) as usize;
    format!(
        "{}_{}_{}",
        ADJECTIVES[n % ADJECTIVES.len()],
        NOUNS[(n / 31) % NOUNS.len()],
        &id[8..12.min(id.len())]
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_names_are_valid_container_names() {
        let id = crate::ids::new_id();
        let name = super::generate_name(&id);
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        assert!(name.len() <= 64);
    }
}

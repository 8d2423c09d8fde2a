//! `NAME[:TAG]` as docker spells it: `busybox`, `busybox:1.36`, `localhost:5000/team/app:v2`.

use super::ImageError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub name: String,
    pub tag: String,
}

impl Reference {
    /// Parses and validates; a missing tag means `latest`.
    pub fn parse(reference: &str) -> Result<Reference, ImageError> {
        let invalid = |reason| ImageError::InvalidReference {
            reference: reference.to_string(),
            reason,
        };
        if reference.contains('@') {
            return Err(invalid("digest references are not supported"));
        }
        // The tag is after the last ':' unless a '/' follows it (then the ':' was a port).
        let (name, tag) = match reference.rfind(':') {
            Some(i) if !reference[i + 1..].contains('/') => (&reference[..i], &reference[i + 1..]),
            _ => (reference, "latest"),
        };
        if let Some(reason) = check_tag(tag) {
            return Err(invalid(reason));
        }
        if let Some(reason) = check_name(name) {
            return Err(invalid(reason));
        }
        Ok(Reference {
            name: name.to_string(),
            tag: tag.to_string(),
        })
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.name, self.tag)
    }
}

fn check_tag(tag: &str) -> Option<&'static str> {
    let ok_chars = tag
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if tag.is_empty() || tag.len() > 128 || !ok_chars || tag.starts_with(['.', '-']) {
        return Some("a tag is 1 to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'");
    }
    None
}

fn check_name(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > 255 {
        return Some("a name is 1 to 255 characters");
    }
    if name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some("a name cannot be 64 hex digits: that is how image ids look");
    }
    let parts: Vec<&str> = name.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        // Only a registry host (first of several parts) may have capitals and a port.
        let host = i == 0 && parts.len() > 1;
        let (part, port) = match part.split_once(':') {
            Some((h, port)) if host => (h, Some(port)),
            _ => (*part, None),
        };
        if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
            return Some("a registry port must be digits");
        }
        let ok = |b: u8| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || (host && b.is_ascii_uppercase())
        };
        let bytes = part.as_bytes();
        let ends_ok = bytes.first().is_some_and(|&b| ok(b)) && bytes.last().is_some_and(|&b| ok(b));
        if !ends_ok || !bytes.iter().all(|&b| ok(b) || b"._-".contains(&b)) {
            return Some("name parts are [a-z0-9] with '.', '_' or '-' inside, joined by '/'");
        }
    }
    None
}

/// `sha256:<hex>` or `<hex>`: the hex part when `s` could be (a prefix of) an image id.
pub(crate) fn id_prefix(s: &str) -> Option<&str> {
    let hex = s.strip_prefix("sha256:").unwrap_or(s);
    let lower_hex = hex
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (!hex.is_empty() && hex.len() <= 64 && lower_hex).then_some(hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(s: &str) -> (String, String) {
        let r = Reference::parse(s).unwrap();
        (r.name, r.tag)
    }

    #[test]
    fn tag_defaults_to_latest_and_port_is_not_a_tag() {
        assert_eq!(parsed("busybox"), ("busybox".into(), "latest".into()));
        assert_eq!(parsed("busybox:1.36"), ("busybox".into(), "1.36".into()));
        assert_eq!(
            parsed("localhost:5000/a/b"),
            ("localhost:5000/a/b".into(), "latest".into())
        );
        assert_eq!(
            parsed("localhost:5000/a:v2"),
            ("localhost:5000/a".into(), "v2".into())
        );
        assert_eq!(Reference::parse("a:b").unwrap().to_string(), "a:b");
    }

    #[test]
    fn bad_references_are_refused() {
        for bad in [
            "",
            "Busybox",
            "a:",
            "a:-x",
            "a//b",
            "-a",
            "a@sha256:00",
            "x:5000a/b",
            &"a".repeat(300),
        ] {
            assert!(
                matches!(
                    Reference::parse(bad),
                    Err(ImageError::InvalidReference { .. })
                ),
                "{bad:?} should be refused"
            );
        }
        let id = "ab".repeat(32);
        assert!(Reference::parse(&id).is_err());
    }

    #[test]
    fn id_prefixes_are_lowercase_hex() {
        assert_eq!(id_prefix("sha256:abc"), Some("abc"));
        assert_eq!(id_prefix("abc"), Some("abc"));
        assert_eq!(id_prefix("abg"), None);
        assert_eq!(id_prefix("ABC"), None);
        assert_eq!(id_prefix(""), None);
    }
}

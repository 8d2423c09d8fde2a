//! Names users choose: container names, hostnames, image references.

use super::ParseError;

/// Container names become directory names and cgroup names: keep them short and plain.
const NAME_MAX: usize = 64;
/// HOST_NAME_MAX on Linux; sethostname(2) fails with EINVAL beyond it.
const HOSTNAME_MAX: usize = 64;
/// Docker's limit on tags.
const TAG_MAX: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameProblem {
    #[error("empty")]
    Empty,
    #[error("longer than {0} characters")]
    TooLong(usize),
    #[error("must start with a letter or digit, not {0:?}")]
    BadFirst(char),
    #[error("{0:?} is not allowed (use letters, digits and {1})")]
    BadChar(char, &'static str),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageRefProblem {
    #[error("empty")]
    Empty,
    #[error("contains whitespace or a control character")]
    Whitespace,
    #[error("starts or ends with '/'")]
    SlashAtEnd,
    #[error("has an empty path component ('//')")]
    EmptyComponent,
    #[error("contains '..'")]
    DotDot,
    #[error("digests (@sha256:...) are not supported")]
    Digest,
    #[error("the name before ':' is empty")]
    EmptyName,
    #[error("':' may only start the tag or a registry's port (host:5000/name)")]
    StrayColon,
    #[error("the tag after ':' is empty")]
    EmptyTag,
    #[error("tag {} must match [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}", crate::quote::quoted(.0))]
    BadTag(String),
}

/// Container names: `[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}`.
pub fn name(s: &str) -> Result<(), ParseError> {
    check_word(s, NAME_MAX, "_.-").map_err(|problem| ParseError::Name {
        input: s.to_string(),
        problem,
    })
}

/// Hostnames: `[a-zA-Z0-9][a-zA-Z0-9.-]{0,63}` (what sethostname and resolvers accept).
pub fn hostname(s: &str) -> Result<(), ParseError> {
    check_word(s, HOSTNAME_MAX, ".-").map_err(|problem| ParseError::Hostname {
        input: s.to_string(),
        problem,
    })
}

fn check_word(s: &str, max: usize, extra: &'static str) -> Result<(), NameProblem> {
    let mut chars = s.chars();
    let first = chars.next().ok_or(NameProblem::Empty)?;
    if !first.is_ascii_alphanumeric() {
        return Err(NameProblem::BadFirst(first));
    }
    if let Some(bad) = chars.find(|c| !(c.is_ascii_alphanumeric() || extra.contains(*c))) {
        return Err(NameProblem::BadChar(bad, extra));
    }
    if s.len() > max {
        return Err(NameProblem::TooLong(max));
    }
    Ok(())
}

/// `NAME[:TAG]` -> (name, tag), tag defaults to `latest`. A colon followed by a `/` belongs
/// to a registry port (`localhost:5000/app`), not a tag.
pub fn image_ref(s: &str) -> Result<(String, String), ParseError> {
    parse_image_ref(s).map_err(|problem| ParseError::ImageRef {
        input: s.to_string(),
        problem,
    })
}

fn parse_image_ref(s: &str) -> Result<(String, String), ImageRefProblem> {
    if s.is_empty() {
        return Err(ImageRefProblem::Empty);
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ImageRefProblem::Whitespace);
    }
    if s.contains('@') {
        return Err(ImageRefProblem::Digest);
    }
    let (name, tag) = match s.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (s, None),
    };
    if name.is_empty() {
        return Err(ImageRefProblem::EmptyName);
    }
    if name.starts_with('/') || name.ends_with('/') {
        return Err(ImageRefProblem::SlashAtEnd);
    }
    if name.contains("//") {
        return Err(ImageRefProblem::EmptyComponent);
    }
    let registry = name.split_once('/').map_or("", |(first, _)| first);
    if name.matches(':').count() > registry.matches(':').count().min(1) {
        return Err(ImageRefProblem::StrayColon);
    }
    // Names may end up in paths under the image store: never let them climb out of it.
    if name.contains("..") {
        return Err(ImageRefProblem::DotDot);
    }
    let tag = match tag {
        None => "latest",
        Some("") => return Err(ImageRefProblem::EmptyTag),
        Some(tag) if !is_tag(tag) => return Err(ImageRefProblem::BadTag(tag.to_string())),
        Some(tag) => tag,
    };
    Ok((name.to_string(), tag.to_string()))
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`, docker's rule for tags.
fn is_tag(tag: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut bytes = tag.bytes();
    tag.len() <= TAG_MAX
        && bytes.next().is_some_and(word)
        && bytes.all(|b| word(b) || b == b'.' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_problem(s: &str) -> NameProblem {
        match name(s) {
            Err(ParseError::Name { input, problem }) if input == s => problem,
            other => panic!("{s:?}: expected a name error, got {other:?}"),
        }
    }

    fn image_problem(s: &str) -> ImageRefProblem {
        match image_ref(s) {
            Err(ParseError::ImageRef { input, problem }) if input == s => problem,
            other => panic!("{s:?}: expected an image reference error, got {other:?}"),
        }
    }

    #[test]
    fn container_names() {
        name("web").unwrap();
        name("web-1.blue_green").unwrap();
        name("0").unwrap();
        name(&"a".repeat(64)).unwrap();
        assert_eq!(name_problem(""), NameProblem::Empty);
        assert_eq!(name_problem(&"a".repeat(65)), NameProblem::TooLong(64));
        assert_eq!(name_problem("..x"), NameProblem::BadFirst('.'));
        assert_eq!(name_problem("-x"), NameProblem::BadFirst('-'));
        assert_eq!(name_problem("a/b"), NameProblem::BadChar('/', "_.-"));
        assert_eq!(name_problem("a b"), NameProblem::BadChar(' ', "_.-"));
        assert_eq!(name_problem("é"), NameProblem::BadFirst('é'));
        assert_eq!(
            name("a/b").unwrap_err().to_string(),
            r#"invalid container name "a/b": '/' is not allowed (use letters, digits and _.-)"#
        );
    }

    #[test]
    fn hostnames() {
        hostname("web.example-1").unwrap();
        assert!(matches!(
            hostname("web_1"),
            Err(ParseError::Hostname {
                problem: NameProblem::BadChar('_', _),
                ..
            })
        ));
        assert!(matches!(
            hostname(&"h".repeat(65)),
            Err(ParseError::Hostname {
                problem: NameProblem::TooLong(64),
                ..
            })
        ));
        assert!(matches!(hostname(""), Err(ParseError::Hostname { .. })));
    }

    #[test]
    fn image_refs_default_to_latest() {
        let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(image_ref("busybox").unwrap(), pair("busybox", "latest"));
        assert_eq!(image_ref("busybox:1.36").unwrap(), pair("busybox", "1.36"));
        assert_eq!(
            image_ref("library/busybox:musl").unwrap(),
            pair("library/busybox", "musl")
        );
        assert_eq!(
            image_ref("localhost:5000/app").unwrap(),
            pair("localhost:5000/app", "latest")
        );
        assert_eq!(
            image_ref("localhost:5000/app:v2").unwrap(),
            pair("localhost:5000/app", "v2")
        );
    }

    #[test]
    fn bad_image_refs_are_refused() {
        assert_eq!(image_problem(""), ImageRefProblem::Empty);
        assert_eq!(image_problem("busy box"), ImageRefProblem::Whitespace);
        assert_eq!(image_problem("busybox\n"), ImageRefProblem::Whitespace);
        assert_eq!(image_problem("/busybox"), ImageRefProblem::SlashAtEnd);
        assert_eq!(image_problem("busybox/"), ImageRefProblem::SlashAtEnd);
        assert_eq!(image_problem("a//b"), ImageRefProblem::EmptyComponent);
        assert_eq!(image_problem("../etc"), ImageRefProblem::DotDot);
        assert_eq!(image_problem("a/../b"), ImageRefProblem::DotDot);
        assert_eq!(image_problem("busybox@sha256:abc"), ImageRefProblem::Digest);
        assert_eq!(image_problem(":tag"), ImageRefProblem::EmptyName);
        assert_eq!(image_problem("busybox:"), ImageRefProblem::EmptyTag);
        assert_eq!(image_problem("a:b:c"), ImageRefProblem::StrayColon);
        assert_eq!(image_problem("h:1:2/app"), ImageRefProblem::StrayColon);
        assert_eq!(image_problem("h/a:b/c"), ImageRefProblem::StrayColon);
        assert_eq!(
            image_problem("busybox:.x"),
            ImageRefProblem::BadTag(".x".into())
        );
        let long = format!("busybox:{}", "t".repeat(129));
        assert!(matches!(image_problem(&long), ImageRefProblem::BadTag(_)));
    }
}

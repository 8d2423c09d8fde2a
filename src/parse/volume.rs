//! `-v SRC:DST[:ro|rw]`: a host directory or a named volume, mounted at an absolute path.

use std::path::PathBuf;

use super::ParseError;
use crate::spec::{VolumeSource, VolumeSpec};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VolumeProblem {
    #[error("expected SOURCE:DESTINATION[:ro|rw]")]
    NoColon,
    #[error("too many ':' (expected SOURCE:DESTINATION[:ro|rw])")]
    TooManyParts,
    #[error("the source is empty")]
    EmptySource,
    #[error("the destination is empty")]
    EmptyTarget,
    #[error("host path must be absolute")]
    RelativeSource,
    #[error("volume name must match [a-zA-Z0-9][a-zA-Z0-9_.-]*")]
    BadVolumeName,
    #[error("host path goes above / with '..'")]
    SourceEscapes,
    #[error("container path must be absolute")]
    RelativeTarget,
    #[error("container path goes above / with '..'")]
    TargetEscapes,
    #[error("cannot mount over / in the container")]
    TargetIsRoot,
    #[error("unknown mode {} (use ro or rw)", crate::quote::quoted(.0))]
    UnknownMode(String),
}

/// `-v SRC:DST[:ro|rw]`. SRC is an absolute host path or a volume name; both paths come back
/// normalised (`.` and `..` resolved lexically, as docker's filepath.Clean does).
pub fn volume(s: &str) -> Result<VolumeSpec, ParseError> {
    parse(s).map_err(|problem| ParseError::Volume {
        input: s.to_string(),
        problem,
    })
}

fn parse(s: &str) -> Result<VolumeSpec, VolumeProblem> {
    let parts: Vec<&str> = s.split(':').collect();
    let (src, dst, mode) = match parts[..] {
        [_] => return Err(VolumeProblem::NoColon),
        [src, dst] => (src, dst, None),
        [src, dst, mode] => (src, dst, Some(mode)),
        _ => return Err(VolumeProblem::TooManyParts),
    };
    if src.is_empty() {
        return Err(VolumeProblem::EmptySource);
    }
    if dst.is_empty() {
        return Err(VolumeProblem::EmptyTarget);
    }
    let read_only = match mode {
        None | Some("rw") => false,
        Some("ro") => true,
        Some(other) => return Err(VolumeProblem::UnknownMode(other.to_string())),
    };
    let source = if src.starts_with('/') {
        VolumeSource::Host(normalise(src).ok_or(VolumeProblem::SourceEscapes)?)
    } else if is_volume_name(src) {
        VolumeSource::Named(src.to_string())
    } else if src.contains('/') || src.starts_with('.') || src.starts_with('~') {
        // Docker would take `./x` as a (bad) volume name; a path is what the user meant.
        return Err(VolumeProblem::RelativeSource);
    } else {
        return Err(VolumeProblem::BadVolumeName);
    };
    if !dst.starts_with('/') {
        return Err(VolumeProblem::RelativeTarget);
    }
    let target = normalise(dst).ok_or(VolumeProblem::TargetEscapes)?;
    if target == std::path::Path::new("/") {
        return Err(VolumeProblem::TargetIsRoot);
    }
    Ok(VolumeSpec {
        source,
        target,
        read_only,
    })
}

/// `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, docker's rule for volume names.
fn is_volume_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// Resolve `.`, `..` and repeated `/` in an absolute path without touching the filesystem;
/// None if `..` would climb above `/` (docker silently clamps; we would rather say so).
fn normalise(path: &str) -> Option<PathBuf> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            name => parts.push(name),
        }
    }
    Some(PathBuf::from(format!("/{}", parts.join("/"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(s: &str) -> VolumeProblem {
        match volume(s) {
            Err(ParseError::Volume { input, problem }) if input == s => problem,
            other => panic!("{s:?}: expected a volume error, got {other:?}"),
        }
    }

    fn host(src: &str, dst: &str, read_only: bool) -> VolumeSpec {
        VolumeSpec {
            source: VolumeSource::Host(src.into()),
            target: dst.into(),
            read_only,
        }
    }

    #[test]
    fn host_directories_with_modes() {
        assert_eq!(
            volume("/srv/data:/data").unwrap(),
            host("/srv/data", "/data", false)
        );
        assert_eq!(
            volume("/srv/data:/data:rw").unwrap(),
            host("/srv/data", "/data", false)
        );
        assert_eq!(
            volume("/srv/data:/data:ro").unwrap(),
            host("/srv/data", "/data", true)
        );
        assert_eq!(volume("/:/host:ro").unwrap(), host("/", "/host", true));
    }

    #[test]
    fn paths_are_normalised_lexically() {
        assert_eq!(
            volume("/srv//x/./y/../data/:/a/./b/../c/").unwrap(),
            host("/srv/x/data", "/a/c", false)
        );
    }

    #[test]
    fn named_volumes() {
        let v = volume("cache_1.x-y:/var/cache:ro").unwrap();
        assert_eq!(v.source, VolumeSource::Named("cache_1.x-y".into()));
        assert_eq!(v.target, PathBuf::from("/var/cache"));
        assert!(v.read_only);
    }

    #[test]
    fn bad_volumes_say_why() {
        assert_eq!(problem("/data"), VolumeProblem::NoColon);
        assert_eq!(problem("data"), VolumeProblem::NoColon);
        assert_eq!(problem("/a:/b:ro:x"), VolumeProblem::TooManyParts);
        assert_eq!(problem(":/b"), VolumeProblem::EmptySource);
        assert_eq!(problem("/a:"), VolumeProblem::EmptyTarget);
        assert_eq!(problem("/a:/b:"), VolumeProblem::UnknownMode("".into()));
        assert_eq!(problem("/a:/b:rx"), VolumeProblem::UnknownMode("rx".into()));
        assert_eq!(problem("./x:/b"), VolumeProblem::RelativeSource);
        assert_eq!(problem("../x:/b"), VolumeProblem::RelativeSource);
        assert_eq!(problem("x/y:/b"), VolumeProblem::RelativeSource);
        assert_eq!(problem(".:/b"), VolumeProblem::RelativeSource);
        assert_eq!(problem("~/x:/b"), VolumeProblem::RelativeSource);
        assert_eq!(problem("my vol:/b"), VolumeProblem::BadVolumeName);
        assert_eq!(problem("_x:/b"), VolumeProblem::BadVolumeName);
        assert_eq!(problem("/a/../..:/b"), VolumeProblem::SourceEscapes);
        assert_eq!(problem("/a:b"), VolumeProblem::RelativeTarget);
        assert_eq!(problem("/a:./b"), VolumeProblem::RelativeTarget);
        assert_eq!(problem("/a:/b/../../etc"), VolumeProblem::TargetEscapes);
        assert_eq!(problem("/a:/"), VolumeProblem::TargetIsRoot);
        assert_eq!(problem("/a:/b/.."), VolumeProblem::TargetIsRoot);
        assert_eq!(problem("/a://."), VolumeProblem::TargetIsRoot);
    }

    #[test]
    fn volume_error_message_names_the_input() {
        assert_eq!(
            volume("./x:/data").unwrap_err().to_string(),
            r#"invalid volume "./x:/data": host path must be absolute"#
        );
    }
}

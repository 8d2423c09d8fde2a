//! Environment variables: `-e K=V`, `-e K`, `--env-file FILE`.

use std::path::Path;

use super::ParseError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvProblem {
    #[error("the variable name is empty")]
    EmptyKey,
    #[error("the variable name {} contains whitespace", crate::quote::quoted(.0))]
    KeyWhitespace(String),
    #[error("contains a NUL byte")]
    Nul,
    #[error("the value of {} in mdrun's environment is not UTF-8", crate::quote::short(.0))]
    NotUnicode(String),
}

/// `-e K=V`, or `-e K` (value taken from mdrun's own environment, skipped when unset).
pub fn env_pair(s: &str) -> Result<Option<(String, String)>, ParseError> {
    parse_pair(s).map_err(|problem| ParseError::Env {
        input: s.to_string(),
        problem,
    })
}

/// `--env-file FILE`: K=V lines, `#` comments and blank lines skipped. As with docker, a line
/// holding only `K` takes K from mdrun's environment (and is dropped when unset), leading
/// whitespace is ignored, and the value is kept verbatim (quotes included).
pub fn env_file(p: &Path) -> Result<Vec<(String, String)>, ParseError> {
    let text = std::fs::read_to_string(p).map_err(|source| ParseError::EnvFileRead {
        path: p.to_path_buf(),
        source,
    })?;
    let mut pairs = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // A bare name may carry trailing blanks; a K=V line's value is kept as written.
        let line = if line.contains('=') {
            line
        } else {
            line.trim_end()
        };
        let pair = parse_pair(line).map_err(|problem| ParseError::EnvFileLine {
            path: p.to_path_buf(),
            line: index + 1,
            problem,
        })?;
        pairs.extend(pair);
    }
    Ok(pairs)
}

fn parse_pair(s: &str) -> Result<Option<(String, String)>, EnvProblem> {
    if s.contains('\0') {
        return Err(EnvProblem::Nul);
    }
    let (key, value) = match s.split_once('=') {
        Some((key, value)) => (key, Some(value)),
        None => (s, None),
    };
    if key.is_empty() {
        return Err(EnvProblem::EmptyKey);
    }
    if key.chars().any(char::is_whitespace) {
        return Err(EnvProblem::KeyWhitespace(key.to_string()));
    }
    match value {
        Some(value) => Ok(Some((key.to_string(), value.to_string()))),
        None => match std::env::var(key) {
            Ok(value) => Ok(Some((key.to_string(), value))),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(EnvProblem::NotUnicode(key.into())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    fn problem(s: &str) -> EnvProblem {
        match env_pair(s) {
            Err(ParseError::Env { input, problem }) if input == s => problem,
            other => panic!("{s:?}: expected an env error, got {other:?}"),
        }
    }

    #[test]
    fn pairs_split_at_the_first_equals() {
        assert_eq!(env_pair("FOO=bar").unwrap(), Some(pair("FOO", "bar")));
        assert_eq!(env_pair("FOO=a=b").unwrap(), Some(pair("FOO", "a=b")));
        assert_eq!(env_pair("FOO=").unwrap(), Some(pair("FOO", "")));
        assert_eq!(env_pair("my.var= x ").unwrap(), Some(pair("my.var", " x ")));
    }

    #[test]
    fn bare_names_come_from_our_environment() {
        // PATH is set in every test environment; a long random name never is. Reading the
        // environment is safe alongside other tests; only setting it is not.
        let path = std::env::var("PATH").unwrap();
        assert_eq!(env_pair("PATH").unwrap(), Some(pair("PATH", &path)));
        assert_eq!(env_pair("MDRUN_TEST_UNSET_7f3a9c").unwrap(), None);
    }

    #[test]
    fn bad_pairs_are_refused() {
        assert_eq!(problem("=x"), EnvProblem::EmptyKey);
        assert_eq!(problem(""), EnvProblem::EmptyKey);
        assert_eq!(problem("A B=1"), EnvProblem::KeyWhitespace("A B".into()));
        assert_eq!(problem("A=\0"), EnvProblem::Nul);
    }

    #[test]
    fn env_files_skip_comments_and_blank_lines() {
        let dir = std::env::temp_dir().join(format!("mdrun-envfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("ok.env");
        std::fs::write(
            &file,
            "# comment\n\nA=1\n  B=two words \r\nMDRUN_TEST_UNSET_7f3a9c\n  # indented\nC=\"q\"\n",
        )
        .unwrap();
        let pairs = env_file(&file).unwrap();
        assert_eq!(
            pairs,
            vec![pair("A", "1"), pair("B", "two words "), pair("C", "\"q\"")]
        );

        let bad = dir.join("bad.env");
        std::fs::write(&bad, "A=1\n# fine\nBAD KEY=2\n").unwrap();
        let err = env_file(&bad).unwrap_err();
        assert!(
            matches!(&err, ParseError::EnvFileLine { line: 3, .. }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "{}:3: the variable name \"BAD KEY\" contains whitespace",
                bad.display()
            )
        );
        std::fs::write(&bad, "=2\n").unwrap();
        assert!(matches!(
            env_file(&bad),
            Err(ParseError::EnvFileLine {
                line: 1,
                problem: EnvProblem::EmptyKey,
                ..
            })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_env_file_names_the_path() {
        let err = env_file(Path::new("/nonexistent/mdrun.env")).unwrap_err();
        assert!(
            err.to_string().starts_with("read /nonexistent/mdrun.env: "),
            "{err}"
        );
    }
}

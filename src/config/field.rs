//! Reading a TOML document key by key, keeping enough to blame a value: the file, the line
//! and the dotted key path (`limits.memory`, `volumes[2]`).

use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

use super::{ConfigError, ValueProblem};
use crate::parse::ParseError;

/// A TOML file's name (as given, for messages) and text (for line numbers).
pub(crate) struct Doc<'a> {
    pub file: &'a Path,
    text: &'a str,
}

/// One value in the document, with where it came from.
pub(crate) struct Field<'t, 'a> {
    doc: &'t Doc<'a>,
    /// The last component of the key (`memory`), what callers match on.
    pub name: &'t str,
    /// The full path for messages (`limits.memory`).
    pub key: String,
    pub line: usize,
    pub value: &'t DeValue<'a>,
}

impl<'a> Doc<'a> {
    pub fn new(file: &'a Path, text: &'a str) -> Self {
        Doc { file, text }
    }

    pub fn parse(&self) -> Result<DeTable<'a>, ConfigError> {
        match DeTable::parse(self.text) {
            Ok(table) => Ok(table.into_inner()),
            Err(e) => {
                let mut message = e.message().trim_end().replace('\n', " ");
                // toml says "duplicate key" without the key; its span covers the key.
                let culprit = e.span().and_then(|span| self.text.get(span));
                if let (true, Some(key)) = (message == "duplicate key", culprit) {
                    message = format!("duplicate key {}", crate::quote::quoted(key.trim()));
                }
                Err(ConfigError::Syntax {
                    file: self.file.to_path_buf(),
                    line: e.span().map_or(1, |span| self.line(span.start)),
                    message,
                })
            }
        }
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    /// The entries of `table`, in the order they appear in the file (so the first mistake is
    /// the one reported). `prefix` is the table's own key path.
    pub fn entries<'t>(&'t self, table: &'t DeTable<'a>, prefix: &str) -> Vec<Field<'t, 'a>> {
        let mut entries: Vec<_> = table.iter().collect();
        entries.sort_by_key(|(key, _)| key.span().start);
        entries
            .into_iter()
            .map(|(key, value)| Field {
                doc: self,
                name: key.get_ref(),
                key: join(prefix, key.get_ref()),
                line: self.line(key.span().start),
                value: value.get_ref(),
            })
            .collect()
    }

    /// [`Doc::entries`], refusing keys not in `allowed`.
    pub fn fields<'t>(
        &'t self,
        table: &'t DeTable<'a>,
        prefix: &str,
        allowed: &'static [&'static str],
    ) -> Result<Vec<Field<'t, 'a>>, ConfigError> {
        let fields = self.entries(table, prefix);
        if let Some(unknown) = fields.iter().find(|f| !allowed.contains(&f.name)) {
            return Err(ConfigError::UnknownKey {
                file: self.file.to_path_buf(),
                line: unknown.line,
                key: unknown.key.clone(),
                expected: allowed,
            });
        }
        Ok(fields)
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

impl<'t, 'a> Field<'t, 'a> {
    fn file(&self) -> PathBuf {
        self.doc.file.to_path_buf()
    }

    pub fn wrong_type(&self, expected: &'static str) -> ConfigError {
        ConfigError::WrongType {
            file: self.file(),
            line: self.line,
            key: self.key.clone(),
            expected,
            found: self.value.type_str(),
        }
    }

    pub fn problem(&self, problem: ValueProblem) -> ConfigError {
        ConfigError::Value {
            file: self.file(),
            line: self.line,
            key: self.key.clone(),
            problem,
        }
    }

    /// Blame this key for what a `crate::parse` function refused.
    pub fn check<T>(&self, result: Result<T, ParseError>) -> Result<T, ConfigError> {
        result.map_err(|source| ConfigError::Invalid {
            file: self.file(),
            line: self.line,
            key: self.key.clone(),
            source,
        })
    }

    pub fn str(&self) -> Result<&'t str, ConfigError> {
        match self.value {
            DeValue::String(s) => Ok(s),
            _ => Err(self.wrong_type("a string")),
        }
    }

    /// A non-empty string without NUL (it will reach a syscall or an exec).
    pub fn text(&self) -> Result<String, ConfigError> {
        let s = self.str()?;
        if s.is_empty() {
            return Err(self.problem(ValueProblem::Empty));
        }
        if s.contains('\0') {
            return Err(self.problem(ValueProblem::Nul));
        }
        Ok(s.to_string())
    }

    pub fn int(&self) -> Result<i64, ConfigError> {
        match self.value {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .map_err(|_| self.problem(ValueProblem::TooLarge)),
            _ => Err(self.wrong_type("an integer")),
        }
    }

    /// A number as the user wrote it (for sizes and cpus, which take `"1g"` or `1024`);
    /// `expected` describes the accepted forms for the type error.
    pub fn scalar(&self, floats: bool, expected: &'static str) -> Result<String, ConfigError> {
        match self.value {
            DeValue::String(s) => Ok(s.to_string()),
            DeValue::Integer(_) => Ok(self.int()?.to_string()),
            DeValue::Float(f) if floats => Ok(f.as_str().to_string()),
            _ => Err(self.wrong_type(expected)),
        }
    }

    pub fn abs_path(&self) -> Result<PathBuf, ConfigError> {
        let path = PathBuf::from(self.text()?);
        if !path.is_absolute() {
            return Err(self.problem(ValueProblem::NotAbsolute(path)));
        }
        Ok(path)
    }

    pub fn table(&self) -> Result<&'t DeTable<'a>, ConfigError> {
        match self.value {
            DeValue::Table(t) => Ok(t),
            _ => Err(self.wrong_type("a table")),
        }
    }

    /// The elements of an array, each blamed as `key[i]` on its own line.
    pub fn elements(&self, expected: &'static str) -> Result<Vec<Field<'t, 'a>>, ConfigError> {
        let DeValue::Array(array) = self.value else {
            return Err(self.wrong_type(expected));
        };
        Ok(array
            .iter()
            .enumerate()
            .map(|(i, element)| Field {
                doc: self.doc,
                name: self.name,
                key: format!("{}[{i}]", self.key),
                line: self.doc.line(element.span().start),
                value: element.get_ref(),
            })
            .collect())
    }

    /// One of a fixed set of words (`names`, listed in the error); `from` maps a word.
    pub fn choice<T>(
        &self,
        names: &'static [&'static str],
        from: impl Fn(&str) -> Option<T>,
    ) -> Result<T, ConfigError> {
        let value = self.str()?;
        from(value).ok_or_else(|| {
            self.problem(ValueProblem::UnknownChoice {
                value: value.to_string(),
                expected: names,
            })
        })
    }
}

//! docker's `--format` Go templates (`{{.Names}}\t{{.Status}}`, `table {{.ID}}\t{{.Image}}`,
//! `{{json .}}`) through gtmpl, a Go text/template implementation. As docker's CLI does:
//! the literal `\t` and `\n` an argument carries become a tab and a newline; `table` adds a
//! header row (each field's column name) and lays the cells out as `ps` does.

use super::human::table;
use crate::error::{Error, Result};
use std::collections::HashMap;

/// One object's fields, as the template sees them (`.Names`, `.Status` ...).
pub type Fields = HashMap<String, gtmpl::Value>;

/// A parsed `--format` that is neither `table` nor `json`.
pub struct Format {
    text: String,
    table: bool,
}

impl Format {
    /// `format` as a template; None for mdrun's own `table` and `json`, and for text
    /// without a `{{...}}` action (a misspelt `json` is an error, not a constant line).
    pub fn parse(format: &str) -> Option<Format> {
        if matches!(format, "table" | "json") || !format.contains("{{") {
            return None;
        }
        let (table, body) = match format.strip_prefix("table") {
            Some(rest) => (true, rest),
            None => (false, format),
        };
        let text = body
            .trim_matches(' ')
            .replace("\\t", "\t")
            .replace("\\n", "\n");
        Some(Format { text, table })
    }

    /// Every object through the template, a line each; under `table` a header first (the
    /// template run on `headers`) and the cells (tab-separated) aligned.
    pub fn render(&self, objects: &[Fields], headers: &Fields) -> Result<String> {
        let mut lines = Vec::new();
        if self.table {
            lines.push(self.one(headers)?);
        }
        for o in objects {
            lines.push(self.one(o)?);
        }
        if !self.table {
            return Ok(lines.iter().map(|l| format!("{l}\n")).collect());
        }
        let rows: Vec<Vec<String>> = lines
            .iter()
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect();
        Ok(table(&rows))
    }

    fn one(&self, fields: &Fields) -> Result<String> {
        let mut tmpl = gtmpl::Template::default();
        tmpl.add_funcs(&[("json", json as gtmpl::Func)]);
        tmpl.parse(self.text.as_str())
            .map_err(|e| Error::Usage(format!("invalid --format template: {e}")))?;
        let ctx = gtmpl::Context::from(gtmpl::Value::from(fields.clone()));
        tmpl.render(&ctx)
            .map_err(|e| Error::Usage(format!("--format template failed: {e}")))
    }
}

/// A JSON object's fields, for a template (`inspect --format '{{.State.Status}}'`).
pub fn fields_of(v: &serde_json::Value) -> Fields {
    match from_json(v) {
        gtmpl::Value::Map(m) => m,
        other => [("Value".to_string(), other)].into(),
    }
}

fn from_json(v: &serde_json::Value) -> gtmpl::Value {
    use serde_json::Value as J;
    match v {
        J::Null => gtmpl::Value::Nil,
        J::Bool(b) => (*b).into(),
        J::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => u.into(),
            (_, Some(i)) => i.into(),
            _ => n.as_f64().unwrap_or(0.0).into(),
        },
        J::String(s) => s.clone().into(),
        J::Array(a) => gtmpl::Value::Array(a.iter().map(from_json).collect()),
        J::Object(o) => {
            gtmpl::Value::Map(o.iter().map(|(k, v)| (k.clone(), from_json(v))).collect())
        }
    }
}

/// `{{json .}}`, `{{json .Labels}}`.
fn json(args: &[gtmpl::Value]) -> std::result::Result<gtmpl::Value, gtmpl::FuncError> {
    let v = args.first().cloned().unwrap_or(gtmpl::Value::Nil);
    Ok(gtmpl::Value::from(to_json(&v).to_string()))
}

fn to_json(v: &gtmpl::Value) -> serde_json::Value {
    use gtmpl::Value as V;
    match v {
        V::Nil | V::NoValue => serde_json::Value::Null,
        V::Bool(b) => (*b).into(),
        V::String(s) => s.clone().into(),
        V::Number(n) => serde_json::from_str(&n.to_string()).unwrap_or(serde_json::Value::Null),
        V::Array(a) => a.iter().map(to_json).collect(),
        V::Map(m) | V::Object(m) => m
            .iter()
            .map(|(k, v)| (k.clone(), to_json(v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        V::Function(_) => serde_json::Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), gtmpl::Value::from(v.to_string())))
            .collect()
    }

    #[test]
    fn go_templates_render_like_docker() {
        let f = Format::parse("{{.Names}}\\t{{.Status}}").unwrap();
        let objs = [fields(&[("Names", "web"), ("Status", "Up 1 second")])];
        let h = fields(&[("Names", "NAMES"), ("Status", "STATUS")]);
        assert_eq!(f.render(&objs, &h).unwrap(), "web\tUp 1 second\n");
        let t = Format::parse("table {{.Names}}\\t{{.Status}}").unwrap();
        assert_eq!(
            t.render(&objs, &h).unwrap(),
            "NAMES     STATUS\nweb       Up 1 second\n"
        );
        let j = Format::parse("{{json .Names}}").unwrap();
        assert_eq!(j.render(&objs, &h).unwrap(), "\"web\"\n");
        assert!(Format::parse("json").is_none());
        assert!(Format::parse("yaml").is_none());
        assert!(Format::parse("{{.Names")
            .unwrap()
            .render(&objs, &h)
            .is_err());
    }
}

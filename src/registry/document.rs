//! A release document (`data/releases/<version>.json`, a user registry's file, a learned
//! or derived release) as it is read and written: the one serde type for it, and the one
//! writer of its documented layout (`data/README.md`). The generator, the index refresh
//! and the derivation from a target all write through [`ReleaseDocument::to_json`];
//! [`super::parse_release`] reads through the same type and validates what it holds.

use serde::{Deserialize, Serialize};

/// A release file, field for field.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReleaseDocument {
    pub(crate) schema: u64,
    pub(crate) release: String,
    /// The release's `Requires-Python` (its `opentelemetry-instrumentation` wheel's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) requires_python: Option<String>,
    #[serde(default)]
    pub(crate) core: Vec<CoreDocument>,
    pub(crate) instrumentations: Vec<InstrumentationDocument>,
    /// A user's file may name packages outside the `opentelemetry-*` namespace.
    #[serde(default, skip_serializing_if = "is_false")]
    pub(crate) allow_other_names: bool,
}

/// One package of the `core` list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CoreDocument {
    pub(crate) name: String,
    pub(crate) version: String,
    #[serde(default = "yes")]
    pub(crate) published: bool,
}

/// One instrumentation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InstrumentationDocument {
    pub(crate) name: String,
    pub(crate) requirement: String,
    pub(crate) kind: super::Kind,
    #[serde(default = "yes")]
    pub(crate) published: bool,
    /// Its own `Requires-Python`, written only where it differs from the release's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) requires_python: Option<String>,
    #[serde(default)]
    pub(crate) instruments: Vec<String>,
    #[serde(default)]
    pub(crate) instruments_any: Vec<String>,
}

fn yes() -> bool {
    true
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` passes a reference
fn is_false(value: &bool) -> bool {
    !*value
}

impl ReleaseDocument {
    /// Reads a document (the shape only: [`super::parse_release`] validates the values).
    pub(crate) fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The document in the documented layout: one field per line, a `core` package per
    /// line, an instrumentation's fields one per line with its lists on one line. Every
    /// value is written by serde; only the line breaks are chosen here, so that a
    /// release's diff shows what changed.
    pub(crate) fn to_json(&self) -> String {
        let mut json = String::from("{\n");
        json.push_str(&format!("  \"schema\": {},\n", self.schema));
        json.push_str(&format!("  \"release\": {},\n", value(&self.release)));
        if let Some(range) = &self.requires_python {
            json.push_str(&format!("  \"requires_python\": {},\n", value(range)));
        }
        if self.allow_other_names {
            json.push_str("  \"allow_other_names\": true,\n");
        }
        json.push_str("  \"core\": [\n");
        for (index, package) in self.core.iter().enumerate() {
            json.push_str(&format!(
                "    {{ \"name\": {}, \"version\": {}, \"published\": {} }}{}\n",
                value(&package.name),
                value(&package.version),
                package.published,
                separator(index, self.core.len())
            ));
        }
        json.push_str("  ],\n  \"instrumentations\": [\n");
        for (index, entry) in self.instrumentations.iter().enumerate() {
            json.push_str("    {\n");
            json.push_str(&format!("      \"name\": {},\n", value(&entry.name)));
            json.push_str(&format!(
                "      \"requirement\": {},\n",
                value(&entry.requirement)
            ));
            json.push_str(&format!("      \"kind\": {},\n", value(&entry.kind)));
            json.push_str(&format!("      \"published\": {},\n", entry.published));
            if let Some(range) = &entry.requires_python {
                json.push_str(&format!("      \"requires_python\": {},\n", value(range)));
            }
            json.push_str(&format!(
                "      \"instruments\": {},\n",
                list(&entry.instruments)
            ));
            json.push_str(&format!(
                "      \"instruments_any\": {}\n",
                list(&entry.instruments_any)
            ));
            json.push_str(&format!(
                "    }}{}\n",
                separator(index, self.instrumentations.len())
            ));
        }
        json.push_str("  ]\n}\n");
        json
    }
}

/// One value, as serde writes it.
fn value(item: &impl Serialize) -> String {
    serde_json::to_string(item).unwrap_or_else(|_| "null".to_owned())
}

/// A list of strings on one line: `["a", "b"]`.
fn list(items: &[String]) -> String {
    let values: Vec<String> = items.iter().map(value).collect();
    format!("[{}]", values.join(", "))
}

fn separator(index: usize, length: usize) -> &'static str {
    if index + 1 < length {
        ","
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every bundled release file is in the writer's layout: reading and writing it again
    /// gives the same bytes (so the generator's output, the refresh's and a derived
    /// release's look alike, and a regenerated file differs only where the data does).
    #[test]
    fn every_bundled_release_is_written_back_byte_for_byte() {
        let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/releases");
        let mut seen = 0;
        for entry in std::fs::read_dir(&directory).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|extension| extension != "json") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let document = ReleaseDocument::from_json(&text).unwrap();
            assert_eq!(document.to_json(), text, "{}", path.display());
            seen += 1;
        }
        assert!(seen > 10, "only {seen} release files");
    }

    #[test]
    fn optional_fields_are_written_only_when_set() {
        let mut document = ReleaseDocument {
            schema: 1,
            release: "0.1b0".into(),
            requires_python: None,
            core: Vec::new(),
            instrumentations: vec![InstrumentationDocument {
                name: "opentelemetry-instrumentation-x".into(),
                requirement: "opentelemetry-instrumentation-x==0.1b0".into(),
                kind: super::super::Kind::Library,
                published: false,
                requires_python: None,
                instruments: vec!["x >= 1".into()],
                instruments_any: Vec::new(),
            }],
            allow_other_names: false,
        };
        let plain = document.to_json();
        assert!(!plain.contains("requires_python") && !plain.contains("allow_other_names"));
        assert_eq!(ReleaseDocument::from_json(&plain).unwrap(), document);
        document.requires_python = Some(">=3.9".into());
        document.allow_other_names = true;
        document.instrumentations[0].requires_python = Some(">=3.10".into());
        let full = document.to_json();
        assert_eq!(ReleaseDocument::from_json(&full).unwrap(), document);
        // Whatever the writer emits is JSON serde reads the same, compact or laid out.
        assert_eq!(
            ReleaseDocument::from_json(&serde_json::to_string(&document).unwrap()).unwrap(),
            document
        );
    }
}

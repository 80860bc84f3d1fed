//! What one release is made of, read from its files: the bootstrap list planned into
//! instrumentation entries (upstream order, kinds, `library` strings) and a wheel's
//! `METADATA` read into its instruments, its `Requires-Python` and what it needs of
//! `opentelemetry-instrumentation`. Shared by the index fetch ([`super::fetch`], for
//! `registry update` and the refresh) and the derivation from a target
//! ([`super::derive`]), which read the same two files from a wheel or from site-packages.

use std::collections::HashMap;

use super::bootstrap_gen::Bootstrap;
use super::{Kind, INSTRUMENTATION_PROJECT};
use crate::index::normalize_name;
use crate::requirement::{Version, VersionSpecifiers};

/// Where a release's bootstrap list lives inside its wheel.
pub(crate) const BOOTSTRAP_GEN_PATH: &str = "opentelemetry/instrumentation/bootstrap_gen.py";
/// Packages released in lock-step with the instrumentations (the `core` list).
pub(crate) const CORE_PACKAGES: [&str; 4] = [
    "opentelemetry-instrumentation",
    "opentelemetry-distro",
    "opentelemetry-semantic-conventions",
    "opentelemetry-util-http",
];

/// One instrumentation of a release before resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BootstrapEntry {
    pub(crate) name: String,
    pub(crate) requirement: String,
    pub(crate) kind: Kind,
    /// Upstream's `library` strings for it (a fallback when no wheel can be read).
    pub(crate) libraries: Vec<String>,
}

/// The instruments of a wheel, and what it needs of `opentelemetry-instrumentation`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct WheelMetadata {
    pub(crate) instruments: Vec<String>,
    pub(crate) instruments_any: Vec<String>,
    /// Specifiers of unconditional `Requires-Dist: opentelemetry-instrumentation …` lines.
    requires_instrumentation: Vec<VersionSpecifiers>,
    /// The `Requires-Python` header, as written (trimmed).
    pub(crate) requires_python: Option<String>,
}

impl WheelMetadata {
    pub(crate) fn accepts(&self, release: &Version) -> bool {
        self.requires_instrumentation
            .iter()
            .all(|specifiers| specifiers.contains(release))
    }
}

/// `(normalized name, specifiers)` of a PEP 508 requirement.
pub(crate) fn parse_requirement(text: &str) -> anyhow::Result<(String, Option<VersionSpecifiers>)> {
    // Through the one door to pep508_rs, which panics on some names (found by fuzzing
    // `bootstrap_gen.py`: `opentelemetry-\tinstrumentation-asyncio==0.67b0`).
    let requirement = crate::requirement::PlainRequirement::parse(text)
        .map_err(|error| anyhow::anyhow!("invalid requirement `{text}`: {error}"))?;
    let specifiers = (!requirement.specifiers.is_empty()).then_some(requirement.specifiers);
    Ok((requirement.name.to_string(), specifiers))
}

/// The instrumentations of a bootstrap list, in registry order (without opt-ins).
pub(crate) fn plan_instrumentations(bootstrap: &Bootstrap) -> anyhow::Result<Vec<BootstrapEntry>> {
    let mut planned: Vec<BootstrapEntry> = Vec::new();
    // Where each name is in `planned`: one lookup per entry, however long the lists.
    let mut positions: HashMap<String, usize> = HashMap::new();
    for requirement in &bootstrap.default_instrumentations {
        let (name, _) = parse_requirement(requirement)?;
        if !positions.contains_key(&name) {
            positions.insert(name.clone(), planned.len());
            planned.push(BootstrapEntry {
                name,
                requirement: requirement.clone(),
                kind: Kind::Default,
                libraries: Vec::new(),
            });
        }
    }
    for (library, requirement) in &bootstrap.libraries {
        let (name, _) = parse_requirement(requirement)?;
        match positions.get(&name) {
            Some(&position) => {
                let entry = &mut planned[position];
                if entry.kind == Kind::Library {
                    entry.libraries.push(library.clone());
                }
            }
            None => {
                positions.insert(name.clone(), planned.len());
                planned.push(BootstrapEntry {
                    name,
                    requirement: requirement.clone(),
                    kind: Kind::Library,
                    libraries: vec![library.clone()],
                });
            }
        }
    }
    Ok(planned)
}

/// Reads the instruments and the `opentelemetry-instrumentation` requirement from a
/// wheel's `METADATA` (the header part; folded lines are joined).
pub(crate) fn parse_metadata(text: &str) -> WheelMetadata {
    // The one header reader (folded lines, CRLF, the block's end), as for installed METADATA.
    let mut values: Vec<String> = Vec::new();
    let mut requires_python = None;
    let _ = crate::scan::metadata::read_headers(text.as_bytes(), |key, value| {
        if key.eq_ignore_ascii_case("requires-dist") {
            values.push(value.to_owned());
        } else if key.eq_ignore_ascii_case("requires-python") && !value.trim().is_empty() {
            requires_python = Some(value.trim().to_owned());
        }
        true
    });
    let mut metadata = WheelMetadata {
        requires_python,
        ..WheelMetadata::default()
    };
    for value in &values {
        let value = value.trim();
        let (requirement, marker) = match value.split_once(';') {
            Some((requirement, marker)) => (requirement.trim(), marker),
            None => (value, ""),
        };
        let extras = marker_extras(marker);
        if extras.iter().any(|extra| extra == "instruments") {
            metadata.instruments.push(requirement.to_owned());
        }
        if extras.iter().any(|extra| extra == "instruments-any") {
            metadata.instruments_any.push(requirement.to_owned());
        }
        if extras.is_empty() {
            if let Ok((name, Some(specifiers))) = parse_requirement(requirement) {
                if name == INSTRUMENTATION_PROJECT {
                    metadata.requires_instrumentation.push(specifiers);
                }
            }
        }
    }
    for list in [&mut metadata.instruments, &mut metadata.instruments_any] {
        list.sort();
        list.dedup();
    }
    metadata
}

/// The (normalized) extras a marker compares `extra` with: `extra == "x"`,
/// `extra == 'x'` or `"x" == extra`, anywhere in the marker.
pub(crate) fn marker_extras(marker: &str) -> Vec<String> {
    let mut extras = Vec::new();
    let bytes = marker.as_bytes();
    let is_identifier = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'_';
    for (start, _) in marker.match_indices("extra") {
        let end = start + "extra".len();
        if (start > 0 && is_identifier(bytes[start - 1]))
            || bytes.get(end).copied().is_some_and(is_identifier)
        {
            continue;
        }
        // `extra == "x"`
        let after = marker[end..].trim_start();
        if let Some(value) = after.strip_prefix("==").and_then(quoted_prefix) {
            extras.push(normalize_name(&value));
            continue;
        }
        // `"x" == extra`
        let before = marker[..start].trim_end();
        if let Some(before) = before.strip_suffix("==") {
            let before = before.trim_end();
            if let Some(quote) = before.chars().last().filter(|c| *c == '"' || *c == '\'') {
                let inner = &before[..before.len() - 1];
                if let Some(open) = inner.rfind(quote) {
                    extras.push(normalize_name(&inner[open + 1..]));
                }
            }
        }
    }
    extras
}

/// The contents of a quoted string at the start of `text` (after blanks).
fn quoted_prefix(text: &str) -> Option<String> {
    let text = text.trim_start();
    let quote = text.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = &text[1..];
    inner.find(quote).map(|end| inner[..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::bootstrap_gen::parse_bootstrap_gen;
    use crate::requirement::parse_version;

    const CURRENT_LAYOUT: &str = r#"# Copyright The OpenTelemetry Authors
# SPDX-License-Identifier: Apache-2.0

# DO NOT EDIT. THIS FILE WAS AUTOGENERATED FROM INSTRUMENTATION PACKAGES.

libraries = [
    {
        "library": "aio_pika >= 7.2.0, < 11.0.0",
        "instrumentation": "opentelemetry-instrumentation-aio-pika==0.66b1",
    },
    {"library": "openai >= 1.26.0", "instrumentation": "opentelemetry-instrumentation-openai-v2"},
    {"library": "google-cloud-aiplatform >= 1.64", "instrumentation": "opentelemetry-instrumentation-vertexai>=2.0b0"},
    {"library": "pydantic >= 1.10.2", "instrumentation": "opentelemetry-instrumentation-tortoiseorm==0.66b1"},
    {"library": 'tortoise-orm >= 0.17.0', "instrumentation": "opentelemetry-instrumentation-tortoiseorm==0.66b1"},  # a comment
]
default_instrumentations = [
    "opentelemetry-instrumentation-asyncio==0.66b1",
    "opentelemetry-instrumentation-dbapi==0.66b1",
]
"#;

    const OLD_LAYOUT: &str = r#"
libraries = {
    "aio_pika": {
        "library": "aio_pika >= 7.2.0, < 10.0.0",
        "instrumentation": "opentelemetry-instrumentation-aio-pika==0.41b0",
    },
    "boto3": {
        "library": "boto3 ~= 1.0",
        "instrumentation": "opentelemetry-instrumentation-boto3sqs==0.41b0",
    },
    "aio_pika": {
        "library": "aio_pika >= 8",
        "instrumentation": "opentelemetry-instrumentation-aio-pika==0.41b0",
    },
}
default_instrumentations = [
    "opentelemetry-instrumentation-aws-lambda==0.41b0",
    "opentelemetry-instrumentation-dbapi=="
    "0.41b0",
]
"#;

    #[test]
    fn parses_the_current_layout() {
        let bootstrap = parse_bootstrap_gen(CURRENT_LAYOUT).expect("parses");
        assert_eq!(
            bootstrap.default_instrumentations,
            [
                "opentelemetry-instrumentation-asyncio==0.66b1",
                "opentelemetry-instrumentation-dbapi==0.66b1"
            ]
        );
        assert_eq!(bootstrap.libraries.len(), 5);
        assert_eq!(
            bootstrap.libraries[0],
            (
                "aio_pika >= 7.2.0, < 11.0.0".to_owned(),
                "opentelemetry-instrumentation-aio-pika==0.66b1".to_owned()
            )
        );
        assert_eq!(bootstrap.libraries[4].0, "tortoise-orm >= 0.17.0");

        let planned = plan_instrumentations(&bootstrap).expect("valid requirements");
        let summary: Vec<(&str, &str, Kind)> = planned
            .iter()
            .map(|entry| (entry.name.as_str(), entry.requirement.as_str(), entry.kind))
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "opentelemetry-instrumentation-asyncio",
                    "opentelemetry-instrumentation-asyncio==0.66b1",
                    Kind::Default
                ),
                (
                    "opentelemetry-instrumentation-dbapi",
                    "opentelemetry-instrumentation-dbapi==0.66b1",
                    Kind::Default
                ),
                (
                    "opentelemetry-instrumentation-aio-pika",
                    "opentelemetry-instrumentation-aio-pika==0.66b1",
                    Kind::Library
                ),
                (
                    "opentelemetry-instrumentation-openai-v2",
                    "opentelemetry-instrumentation-openai-v2",
                    Kind::Library
                ),
                (
                    "opentelemetry-instrumentation-vertexai",
                    "opentelemetry-instrumentation-vertexai>=2.0b0",
                    Kind::Library
                ),
                (
                    "opentelemetry-instrumentation-tortoiseorm",
                    "opentelemetry-instrumentation-tortoiseorm==0.66b1",
                    Kind::Library
                ),
            ]
        );
        assert_eq!(
            planned[5].libraries,
            ["pydantic >= 1.10.2", "tortoise-orm >= 0.17.0"]
        );
    }

    #[test]
    fn parses_the_old_dict_layout_with_python_semantics() {
        let bootstrap = parse_bootstrap_gen(OLD_LAYOUT).expect("parses");
        assert_eq!(
            bootstrap.libraries,
            [
                (
                    "aio_pika >= 8".to_owned(),
                    "opentelemetry-instrumentation-aio-pika==0.41b0".to_owned()
                ),
                (
                    "boto3 ~= 1.0".to_owned(),
                    "opentelemetry-instrumentation-boto3sqs==0.41b0".to_owned()
                ),
            ]
        );
        assert_eq!(
            bootstrap.default_instrumentations,
            [
                "opentelemetry-instrumentation-aws-lambda==0.41b0",
                "opentelemetry-instrumentation-dbapi==0.41b0"
            ]
        );
    }

    #[test]
    fn a_default_listed_as_a_library_stays_a_default() {
        let bootstrap = Bootstrap {
            libraries: vec![(
                "flask".to_owned(),
                "opentelemetry-instrumentation-flask==1.0".to_owned(),
            )],
            default_instrumentations: vec!["opentelemetry-instrumentation-flask==1.0".to_owned()],
        };
        let planned = plan_instrumentations(&bootstrap).expect("valid requirements");
        assert_eq!(planned.len(), 1);
        assert_eq!(planned[0].kind, Kind::Default);
    }

    #[test]
    fn rejects_malformed_files() {
        assert!(parse_bootstrap_gen("libraries = [\n").is_err());
        assert!(parse_bootstrap_gen("default_instrumentations = []\n").is_err());
        assert!(parse_bootstrap_gen(
            "libraries = [{\"library\": \"x\"}]\ndefault_instrumentations = []\n"
        )
        .is_err());
        let error = parse_bootstrap_gen(
            "libraries = [\n  \"unterminated\n]\ndefault_instrumentations = []\n",
        )
        .expect_err("unterminated string");
        assert!(error.starts_with("line 2:"), "{error}");
    }

    #[test]
    fn parses_metadata_extras() {
        let metadata = parse_metadata(
            "Metadata-Version: 2.4\n\
             Name: opentelemetry-instrumentation-demo\n\
             Requires-Python: >=3.9\n\
             Requires-Dist: opentelemetry-api~=1.12\n\
             Requires-Dist: opentelemetry-instrumentation==0.66b1\n\
             Requires-Dist: wrapt<2.0.0,>=1.0.0\n\
             Requires-Dist: tortoise-orm>=0.17.0; extra == \"instruments\"\n\
             Requires-Dist: pydantic>=1.10.2; extra == 'instruments'\n\
             Requires-Dist: psycopg2>=2.7.3.1; extra == \"instruments-any\"\n\
             Requires-Dist: psycopg2-binary>=2.7.3.1 ; python_version >= \"3.9\" and extra == \"instruments_any\"\n\
             Requires-Dist: pytest; extra == \"test\"\n\
             Requires-Dist: instruments-thing; extra == \"instrumentsx\"\n\
             Provides-Extra: instruments\n\
             \n\
             Requires-Dist: not-a-header; extra == \"instruments\"\n",
        );
        assert_eq!(
            metadata.instruments,
            ["pydantic>=1.10.2", "tortoise-orm>=0.17.0"]
        );
        assert_eq!(
            metadata.instruments_any,
            ["psycopg2-binary>=2.7.3.1", "psycopg2>=2.7.3.1"]
        );
        assert_eq!(metadata.requires_instrumentation.len(), 1);
        assert_eq!(metadata.requires_python.as_deref(), Some(">=3.9"));
        assert!(metadata.accepts(&parse_version("0.66b1").expect("version")));
        assert!(!metadata.accepts(&parse_version("0.66b0").expect("version")));
    }

    #[test]
    fn finds_extras_in_markers() {
        assert_eq!(marker_extras(" extra == \"instruments\""), ["instruments"]);
        assert_eq!(
            marker_extras("'Instruments_Any' == extra"),
            ["instruments-any"]
        );
        assert_eq!(
            marker_extras("python_version < \"3.13\" and extra=='instruments'"),
            ["instruments"]
        );
        assert!(marker_extras("python_version < \"3.13\"").is_empty());
        assert!(marker_extras("extras == \"instruments\"").is_empty());
    }
}

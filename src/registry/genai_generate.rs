//! Generates the GenAI family's `packages.json` (see [`super::genai`]) from a package
//! index: for each family package (and `opentelemetry-util-genai`), every version's
//! `METADATA`, read from its wheel (the index may serve no `.metadata` files), gives its
//! `Requires-Python`, its `opentelemetry-*` requirements and its `instruments` extra; and
//! for each given contrib release, `opentelemetry-semantic-conventions`' pin on
//! `opentelemetry-api` gives the API it goes with.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;

use super::genai::{PackageFile, VersionFile, GENAI_SCHEMA, UTIL_PROJECT};
use crate::index::{IndexClient, IndexFile};
use crate::requirement::{parse_version, PlainRequirement, Version};

/// The project whose `opentelemetry-api==X` pin names a release's API.
const SEMANTIC_CONVENTIONS: &str = "opentelemetry-semantic-conventions";

/// The document, rendered. `family` are the package names (from `choices.json`),
/// `releases` the contrib releases whose API version to record.
pub fn generate_genai(
    client: &IndexClient,
    family: &[String],
    releases: &[String],
) -> anyhow::Result<String> {
    let util = package(client, UTIL_PROJECT)?;
    let packages = family
        .iter()
        .map(|name| package(client, name))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let api_versions = api_versions(client, releases)?;
    let document = serde_json::json!({
        "schema": GENAI_SCHEMA,
        "api_versions": api_versions,
        "util": util,
        "packages": packages,
    });
    Ok(serde_json::to_string_pretty(&document)? + "\n")
}

/// Writes `text` to `path` through a temporary file beside it (never half a file).
pub fn write_document(path: &Path, text: &str) -> anyhow::Result<()> {
    let directory = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(directory)
        .with_context(|| format!("could not create `{}`", directory.display()))?;
    let temporary = directory.join(".packages.json.tmp");
    std::fs::write(&temporary, text)
        .with_context(|| format!("could not write `{}`", temporary.display()))?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("could not write `{}`", path.display()))
}

/// Each non-yanked version's best wheel (a `py3-none-any` one when there is one), newest
/// first.
fn wheels(client: &IndexClient, project: &str) -> anyhow::Result<Vec<(Version, IndexFile)>> {
    let files = client
        .project_files(project)
        .with_context(|| format!("could not read the index page of `{project}`"))?;
    let mut by_version: BTreeMap<Version, IndexFile> = BTreeMap::new();
    for file in files {
        if !file.is_wheel() || file.yanked {
            continue;
        }
        let Some(version) = file.version_text().and_then(parse_version) else {
            continue;
        };
        let universal = file.filename.ends_with("-py3-none-any.whl");
        match by_version.get(&version) {
            Some(kept) if kept.filename.ends_with("-py3-none-any.whl") || !universal => {}
            _ => {
                by_version.insert(version, file);
            }
        }
    }
    Ok(by_version.into_iter().rev().collect())
}

fn package(client: &IndexClient, project: &str) -> anyhow::Result<PackageFile> {
    let mut versions = Vec::new();
    for (version, file) in wheels(client, project)? {
        let metadata = client
            .wheel_metadata(&file)
            .with_context(|| format!("could not read the METADATA of `{}`", file.filename))?;
        versions.push(version_entry(&version.to_string(), &metadata));
    }
    if versions.is_empty() {
        anyhow::bail!("the index has no wheel of `{project}`");
    }
    Ok(PackageFile {
        name: project.to_owned(),
        versions,
    })
}

/// One version's entry, from its `METADATA`.
pub(crate) fn version_entry(version: &str, metadata: &str) -> VersionFile {
    let mut requires_python = None;
    let mut requires = Vec::new();
    let mut instruments = Vec::new();
    let _ = crate::scan::metadata::read_headers(metadata.as_bytes(), |key, value| {
        if key.eq_ignore_ascii_case("requires-python") {
            requires_python = Some(value.trim().to_owned());
        } else if key.eq_ignore_ascii_case("requires-dist") {
            let (requirement, marker) = match value.split_once(';') {
                Some((requirement, marker)) => (requirement.trim(), marker),
                None => (value.trim(), ""),
            };
            let extras = super::generate::marker_extras(marker);
            // Only what the registry's schema can hold: a plain name and range.
            if PlainRequirement::parse(requirement).is_err() {
                return true;
            }
            if extras.iter().any(|extra| extra == "instruments") {
                instruments.push(requirement.to_owned());
            } else if extras.is_empty() && requirement.starts_with("opentelemetry-") {
                requires.push(requirement.to_owned());
            }
        }
        true
    });
    VersionFile {
        version: version.to_owned(),
        requires_python,
        requires,
        instruments,
    }
}

fn api_versions(
    client: &IndexClient,
    releases: &[String],
) -> anyhow::Result<BTreeMap<String, String>> {
    let wanted: Vec<Version> = releases.iter().filter_map(|r| parse_version(r)).collect();
    let mut found = BTreeMap::new();
    for (version, file) in wheels(client, SEMANTIC_CONVENTIONS)? {
        if !wanted.contains(&version) {
            continue;
        }
        let metadata = client
            .wheel_metadata(&file)
            .with_context(|| format!("could not read the METADATA of `{}`", file.filename))?;
        if let Some(api) = api_pin(&metadata) {
            found.insert(version.to_string(), api);
        }
    }
    Ok(found)
}

/// The `X` of `Requires-Dist: opentelemetry-api==X`.
fn api_pin(metadata: &str) -> Option<String> {
    let mut pin = None;
    let _ = crate::scan::metadata::read_headers(metadata.as_bytes(), |key, value| {
        if key.eq_ignore_ascii_case("requires-dist") {
            if let Ok(requirement) = PlainRequirement::parse(value.trim()) {
                if requirement.name.as_ref() == super::genai::API_PROJECT {
                    pin = requirement.exact_version().map(ToString::to_string);
                }
            }
        }
        pin.is_none()
    });
    pin
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPENAI: &str = "Metadata-Version: 2.4\r\nName: opentelemetry-instrumentation-genai-openai\r\nVersion: 1.3b0\r\nRequires-Python: >=3.10\r\nRequires-Dist: opentelemetry-api~=1.43\r\nRequires-Dist: opentelemetry-instrumentation<1,>=0.64b0\r\nRequires-Dist: wrapt<3,>=1.17\r\nRequires-Dist: openai<4,>=1.26.0; extra == 'instruments'\r\nRequires-Dist: pytest; extra == \"test\"\r\n\r\nbody\r\n";

    #[test]
    fn reads_a_wheel_metadata() {
        let entry = version_entry("1.3b0", OPENAI);
        assert_eq!(entry.requires_python.as_deref(), Some(">=3.10"));
        assert_eq!(
            entry.requires,
            [
                "opentelemetry-api~=1.43",
                "opentelemetry-instrumentation<1,>=0.64b0"
            ]
        );
        assert_eq!(entry.instruments, ["openai<4,>=1.26.0"]);
    }

    #[test]
    fn reads_the_api_pin() {
        let semconv = "Name: opentelemetry-semantic-conventions\nVersion: 0.66b1\nRequires-Dist: opentelemetry-api==1.45.1\nRequires-Dist: typing-extensions>=4.5.0\n\n";
        assert_eq!(api_pin(semconv).as_deref(), Some("1.45.1"));
        assert_eq!(api_pin("Name: x\n\n"), None);
    }
}

//! Generates the GenAI family's `packages.json` (see [`super::genai`]) from a package
//! index: for each family package (and `opentelemetry-util-genai`), every version's
//! `METADATA`, read from its wheel (the index may serve no `.metadata` files), gives its
//! `Requires-Python`, its `opentelemetry-*` requirements and its `instruments` extra; and
//! for each given contrib release, `opentelemetry-semantic-conventions`' pin on
//! `opentelemetry-api` gives the API it goes with.
//!
//! One fetch, two callers: `registry update-genai` (everything, from scratch) and the
//! resolve step's learning on `-a install` / `--refresh` ([`learn_genai`]: what the index
//! adds to the data the run has; see [`super::resolve`]).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;

use super::genai::{GenAi, PackageFile, VersionFile, GENAI_SCHEMA, UTIL_PROJECT};
use super::refresh::RefreshSettings;
use crate::index::{IndexClient, IndexFile};
use crate::requirement::{normalize, parse_version, PlainRequirement, Version};

/// The project whose `opentelemetry-api==X` pin names a release's API.
const SEMANTIC_CONVENTIONS: &str = "opentelemetry-semantic-conventions";

/// The document, rendered. `family` are the package names (from `choices.json`),
/// `releases` the contrib releases whose API version to record.
///
/// Without `known`, everything is read from the index (`registry update-genai`), and a
/// family package the index does not have is an error. With `known` (the data a run
/// has, when the resolve step learns the family), the index adds to it: only versions
/// `known` lacks have their `METADATA` read (a published version's never changes), only
/// releases newer than every release whose API `known` has are looked up, and a package
/// the index does not have keeps its known versions (a company index may mirror only
/// some of the family).
pub(crate) fn generate_genai(
    client: &IndexClient,
    family: &[String],
    releases: &[String],
    known: Option<&GenAi>,
) -> anyhow::Result<String> {
    let (known_api, known_util, known_packages) = match known {
        Some(known) => {
            let (api, util, packages) = known.to_file();
            (api, Some(util), packages)
        }
        None => Default::default(),
    };
    let known_package = |name: &str| {
        known_packages
            .iter()
            .find(|package| normalize(&package.name) == normalize(name))
    };
    let util = package(client, UTIL_PROJECT, known_util.as_ref())?;
    let packages = family
        .iter()
        .map(|name| package(client, name, known_package(name)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let releases: Vec<String> = match known {
        Some(known) => {
            let newest = known.api_releases().max();
            releases
                .iter()
                .filter(|release| {
                    parse_version(release).is_some_and(|release| Some(&release) > newest)
                })
                .cloned()
                .collect()
        }
        None => releases.to_vec(),
    };
    let mut api_versions = known_api;
    if !releases.is_empty() {
        api_versions.extend(api_versions_of(client, &releases)?);
    }
    render(&api_versions, &util, &packages)
}

/// The `packages.json` text of these parts (the one rendering: equal data, equal text).
fn render(
    api_versions: &BTreeMap<String, String>,
    util: &PackageFile,
    packages: &[PackageFile],
) -> anyhow::Result<String> {
    let document = serde_json::json!({
        "schema": GENAI_SCHEMA,
        "api_versions": api_versions,
        "util": util,
        "packages": packages,
    });
    Ok(serde_json::to_string_pretty(&document)? + "\n")
}

/// The family learned from the index over `known` ([`generate_genai`] with a baseline),
/// validated, and written to `path` when one is given (atomically, through
/// [`write_document`]); `None` when the index adds nothing to `known` (then nothing is
/// written). `releases` are the registry's (the one just learned included).
pub(crate) fn learn_genai(
    settings: &RefreshSettings,
    known: &GenAi,
    releases: &[String],
    path: Option<&Path>,
) -> anyhow::Result<Option<GenAi>> {
    let client = IndexClient::new(&settings.index_url)?.with_cache_dir(
        settings
            .cache_dir
            .clone()
            .or_else(crate::index::default_cache_dir),
    );
    let text = generate_genai(
        &client,
        &super::genai::family_names(),
        releases,
        Some(known),
    )?;
    let (api_versions, util, packages) = known.to_file();
    if text == render(&api_versions, &util, &packages)? {
        return Ok(None);
    }
    let origin = match path {
        Some(path) => path.display().to_string(),
        None => settings.index_url_redacted(),
    };
    let genai = GenAi::parse(&text, super::genai::bundled_choices(), &origin)
        .map_err(|reason| anyhow::anyhow!("the learned GenAI data is not valid: {reason}"))?;
    if let Some(path) = path {
        write_document(path, &text)?;
    }
    Ok(Some(genai))
}

/// Writes `text` to `path` atomically (a new file with a random name beside it, then a
/// rename: never half a file, never through a planted link).
pub(crate) fn write_document(path: &Path, text: &str) -> anyhow::Result<()> {
    super::refresh::write_atomically(path, text)
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

fn package(
    client: &IndexClient,
    project: &str,
    known: Option<&PackageFile>,
) -> anyhow::Result<PackageFile> {
    let mut versions = Vec::new();
    for (version, file) in wheels(client, project)? {
        let already = known.and_then(|known| {
            known
                .versions
                .iter()
                .find(|entry| parse_version(&entry.version).as_ref() == Some(&version))
        });
        if let Some(entry) = already {
            versions.push(entry.clone());
            continue;
        }
        let metadata = client
            .wheel_metadata(&file)
            .with_context(|| format!("could not read the METADATA of `{}`", file.filename))?;
        versions.push(version_entry(&version.to_string(), &metadata));
    }
    if versions.is_empty() {
        if let Some(known) = known {
            return Ok(known.clone());
        }
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
            let extras = super::wheel::marker_extras(marker);
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

fn api_versions_of(
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

//! Vendor overlays: a small JSON document that adds, replaces and removes instrumentations
//! on top of the bundled registry, used with `--registry overlay.json` (format in
//! `data/README.md`; Elastic's EDOT is the worked example).
//!
//! An overlay is applied to every bundled release its `releases` range selects (all of
//! them without one), in a fixed order: `remove`, then `replace` (the replacement takes
//! the replaced entry's place), then `add` (at the end). Every step must find what it
//! names, so an overlay that has gone stale fails loudly instead of doing nothing; the
//! result is validated as any registry is. Errors name the overlay file and the entry.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::requirement::VersionSpecifiers;
use serde::Deserialize;

use crate::registry::{Registry, RegistrySource, Release};
use crate::requirement::normalize;

/// The overlay schema version this build reads.
pub(crate) const OVERLAY_SCHEMA: u64 = 1;

/// An overlay that cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OverlayError {
    #[error("overlay `{path}` is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("overlay `{path}`: {message}")]
    Apply { path: PathBuf, message: String },
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
}

/// An instrumentation entry, in the release schema (`data/README.md`).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) requirement: String,
    pub(crate) kind: crate::registry::Kind,
    #[serde(default = "yes")]
    pub(crate) published: bool,
    #[serde(default)]
    pub(crate) instruments: Vec<String>,
    #[serde(default)]
    pub(crate) instruments_any: Vec<String>,
}

fn yes() -> bool {
    true
}

/// One replacement: the entry named `name` becomes `with`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Replacement {
    pub(crate) name: String,
    pub(crate) with: Entry,
}

/// The overlay document.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Overlay {
    pub(crate) overlay: u64,
    /// Who the overlay is for, shown nowhere but useful in the file (read so that the
    /// document is whole: unknown keys are refused).
    #[allow(dead_code)]
    pub(crate) name: String,
    #[serde(default)]
    #[allow(dead_code)]
    pub(crate) description: Option<String>,
    /// A PEP 440 range of releases to apply to (`>=0.49b0`); all when absent.
    #[serde(default)]
    pub(crate) releases: Option<String>,
    #[serde(default)]
    pub(crate) remove: Vec<String>,
    #[serde(default)]
    pub(crate) replace: Vec<Replacement>,
    #[serde(default)]
    pub(crate) add: Vec<Entry>,
    /// The overlay names packages outside the OpenTelemetry project on purpose (a vendor's
    /// own instrumentation); without it such entries are dropped with a warning, with it
    /// they are kept and reported (see [`crate::registry::names`]).
    #[serde(default)]
    pub(crate) allow_other_names: bool,
}

/// Whether `text` is an overlay document (a JSON object with an `overlay` key).
pub(crate) fn is_overlay(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .is_some_and(|value| value.get("overlay").is_some())
}

/// `--registry PATH`: the bundled registry with the overlay applied when `path` is an
/// overlay file; `None` for anything else (a release file or a directory).
pub(crate) fn load_if_overlay(path: &Path) -> Result<Option<Registry>, OverlayError> {
    if std::fs::metadata(path).is_ok_and(|status| status.is_dir()) {
        return Ok(None);
    }
    // One hardened reader: a FIFO or device is refused without blocking, a large file
    // without being read. A file that cannot be read is left to the release-file reader,
    // which reports why.
    let Ok(text) = crate::untrusted::read_text(path, crate::untrusted::FileKind::Registry) else {
        return Ok(None);
    };
    if !is_overlay(&text) {
        return Ok(None);
    }
    apply_text(&Registry::bundled(), &text, path).map(Some)
}

/// Parses `text` (from `path`, for messages) and applies it to `base`.
pub(crate) fn apply_text(
    base: &Registry,
    text: &str,
    path: &Path,
) -> Result<Registry, OverlayError> {
    let invalid = |message: String| OverlayError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let overlay: Overlay =
        serde_json::from_str(text).map_err(|error| invalid(error.to_string()))?;
    apply(base, &overlay, path)
}

/// Applies `overlay` to every release of `base` it selects.
pub(crate) fn apply(
    base: &Registry,
    overlay: &Overlay,
    path: &Path,
) -> Result<Registry, OverlayError> {
    let invalid = |message: String| OverlayError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let failed = |message: String| OverlayError::Apply {
        path: path.to_path_buf(),
        message,
    };
    if overlay.overlay != OVERLAY_SCHEMA {
        return Err(invalid(format!(
            "`overlay` is {}, this build reads {OVERLAY_SCHEMA}",
            overlay.overlay
        )));
    }
    let range: Option<VersionSpecifiers> = match &overlay.releases {
        None => None,
        Some(text) => Some(
            text.parse()
                .map_err(|error| invalid(format!("`releases`: `{text}`: {error}")))?,
        ),
    };
    check_replacements(overlay).map_err(invalid)?;
    if overlay.remove.is_empty() && overlay.replace.is_empty() && overlay.add.is_empty() {
        return Err(invalid(
            "it changes nothing: give `remove`, `replace` or `add`".to_owned(),
        ));
    }
    let (overlay, warning) = screen_names(overlay, path);
    let overlay = &overlay;

    let mut texts: Vec<(String, String)> = Vec::new();
    let mut selected = 0;
    for version in base.versions() {
        let release = base.load(version)?;
        let mut document = release_document(release);
        if range
            .as_ref()
            .is_none_or(|range| range.iter().all(|specifier| specifier.contains(version)))
        {
            selected += 1;
            apply_to(&mut document, overlay, &release.raw_version).map_err(&failed)?;
        }
        let text = serde_json::to_string(&document)
            .map_err(|error| failed(format!("internal: {error}")))?;
        texts.push((
            format!("{} (release {})", path.display(), release.raw_version),
            text,
        ));
    }
    if selected == 0 {
        return Err(invalid(format!(
            "`releases` (`{}`) selects no release of the registry ({})",
            overlay.releases.as_deref().unwrap_or_default(),
            base.describe_range().replace('`', "")
        )));
    }
    let pairs: Vec<(&str, &str)> = texts
        .iter()
        .map(|(origin, text)| (origin.as_str(), text.as_str()))
        .collect();
    Ok(Registry::from_texts(&pairs)?
        .with_source(RegistrySource::Path(path.to_path_buf()))
        .with_warnings(warning.into_iter().collect()))
}

/// The overlay with the entries that name packages outside the OpenTelemetry project
/// dropped (an `add`, or a `replace` whose replaced entry then stays), and the warning
/// saying so; when the overlay sets `allow_other_names`, nothing is dropped and the
/// warning reports them ([`crate::registry::names`]).
fn screen_names(overlay: &Overlay, path: &Path) -> (Overlay, Option<crate::diagnostics::Warning>) {
    use crate::registry::names;
    let added = overlay.add.iter().map(|entry| entry.name.as_str()).chain(
        overlay
            .replace
            .iter()
            .map(|replacement| replacement.with.name.as_str()),
    );
    let outside = names::refused(added);
    let source = path.display().to_string();
    let mut overlay = overlay.clone();
    if outside.is_empty() {
        return (overlay, None);
    }
    if overlay.allow_other_names {
        return (overlay, Some(names::allowed_warning(&source, &outside)));
    }
    overlay.add.retain(|entry| names::allowed_name(&entry.name));
    overlay
        .replace
        .retain(|replacement| names::allowed_name(&replacement.with.name));
    (overlay, Some(names::refused_warning(&source, &outside)))
}

/// Replacements may not chain (one puts in what another takes out) or loop; an entry
/// may be replaced by a new entry of the same name.
fn check_replacements(overlay: &Overlay) -> Result<(), String> {
    let mut edges: HashMap<String, (usize, String)> = HashMap::new();
    for (index, replacement) in overlay.replace.iter().enumerate() {
        let previous = edges.insert(
            normalize(&replacement.name),
            (index, normalize(&replacement.with.name)),
        );
        if previous.is_some() {
            return Err(format!(
                "`replace[{index}]`: `{}` is replaced twice",
                replacement.name
            ));
        }
    }
    for (index, replacement) in overlay.replace.iter().enumerate() {
        let start = normalize(&replacement.name);
        let first = normalize(&replacement.with.name);
        if first == start {
            continue;
        }
        let Some((next_index, _)) = edges.get(&first) else {
            continue;
        };
        let mut path = vec![start.clone(), first.clone()];
        let mut at = first.clone();
        while let Some((_, next)) = edges.get(&at) {
            if *next == at || path.len() > edges.len() + 1 {
                break;
            }
            path.push(next.clone());
            if *next == start {
                return Err(format!("`replace` forms a cycle: {}", path.join(" -> ")));
            }
            at = next.clone();
        }
        return Err(format!(
            "`replace[{index}]` puts in `{first}`, which `replace[{next_index}]` takes out; replace `{start}` with the final entry directly"
        ));
    }
    Ok(())
}

/// Applies the steps to one release document.
fn apply_to(
    document: &mut serde_json::Value,
    overlay: &Overlay,
    release: &str,
) -> Result<(), String> {
    let entries = document["instrumentations"]
        .as_array_mut()
        .ok_or_else(|| "internal: a release without instrumentations".to_owned())?;
    let position = |entries: &[serde_json::Value], name: &str| {
        let name = normalize(name);
        entries
            .iter()
            .position(|entry| entry["name"].as_str().map(normalize).as_deref() == Some(&name))
    };
    let narrow = "(narrow `releases` if it is absent on purpose)";
    for (index, name) in overlay.remove.iter().enumerate() {
        let found = position(entries, name).ok_or_else(|| {
            format!("`remove[{index}]`: `{name}` is not in release {release}, nothing to remove {narrow}")
        })?;
        entries.remove(found);
    }
    for (index, replacement) in overlay.replace.iter().enumerate() {
        let found = position(entries, &replacement.name).ok_or_else(|| {
            format!(
                "`replace[{index}]`: `{}` is not in release {release}, nothing to replace {narrow}",
                replacement.name
            )
        })?;
        let with = serde_json::to_value(&replacement.with).map_err(|error| error.to_string())?;
        entries[found] = with;
        if entries
            .iter()
            .enumerate()
            .any(|(other, entry)| other != found && entry["name"] == replacement.with.name.as_str())
        {
            return Err(format!(
                "`replace[{index}]`: `{}` is already in release {release}",
                replacement.with.name
            ));
        }
    }
    for (index, entry) in overlay.add.iter().enumerate() {
        if position(entries, &entry.name).is_some() {
            return Err(format!(
                "`add[{index}]`: `{}` is already in release {release}; use `replace`",
                entry.name
            ));
        }
        entries.push(serde_json::to_value(entry).map_err(|error| error.to_string())?);
    }
    Ok(())
}

/// A parsed release back in the release schema (every field, `requires_python` too).
fn release_document(release: &Release) -> serde_json::Value {
    serde_json::to_value(release.to_document()).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(version: &str) -> String {
        format!(
            r#"{{"schema": 1, "release": "{version}", "instrumentations": [
              {{"name": "opentelemetry-instrumentation-asyncio", "requirement": "opentelemetry-instrumentation-asyncio=={version}", "kind": "default"}},
              {{"name": "opentelemetry-instrumentation-openai-v2", "requirement": "opentelemetry-instrumentation-openai-v2", "kind": "library", "instruments": ["openai>=1.26.0"]}},
              {{"name": "opentelemetry-instrumentation-flask", "requirement": "opentelemetry-instrumentation-flask=={version}", "kind": "library", "instruments": ["flask>=1.0"]}}]}}"#
        )
    }

    fn names(registry: &Registry, version: &str) -> Vec<String> {
        registry
            .load(&version.parse().unwrap())
            .unwrap()
            .instrumentations
            .iter()
            .map(|entry| entry.name.to_string())
            .collect()
    }

    #[test]
    fn replace_keeps_the_place_add_appends_remove_removes_within_the_range() {
        let (old, new) = (release("1.0b0"), release("1.1b0"));
        let base = Registry::from_texts(&[("1.0b0.json", &old), ("1.1b0.json", &new)]).unwrap();
        let overlay = r#"{"overlay": 1, "name": "vendor", "releases": ">=1.1b0", "allow_other_names": true,
            "remove": ["opentelemetry-instrumentation-flask"],
            "replace": [{"name": "opentelemetry-instrumentation-openai-v2", "with":
                {"name": "vendor-openai", "requirement": "vendor-openai>=1", "kind": "library", "instruments": ["openai>=1.2.0"]}}],
            "add": [{"name": "vendor-extra", "requirement": "vendor-extra", "kind": "opt-in"}]}"#;
        let applied = apply_text(&base, overlay, Path::new("vendor.json")).unwrap();
        assert_eq!(
            names(&applied, "1.1b0"),
            [
                "opentelemetry-instrumentation-asyncio",
                "vendor-openai",
                "vendor-extra"
            ]
        );
        assert_eq!(names(&applied, "1.0b0"), names(&base, "1.0b0"));
        assert_eq!(
            applied.source(),
            &RegistrySource::Path(PathBuf::from("vendor.json"))
        );
        assert!(is_overlay(overlay));
        assert!(!is_overlay(&new));
        let warnings = applied.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0]
                .message
                .contains("`vendor-extra`, `vendor-openai`"),
            "{warnings:?}"
        );
        // Without the field, the other names are dropped, and said so.
        let refused = overlay.replace(r#" "allow_other_names": true,"#, "");
        let applied = apply_text(&base, &refused, Path::new("vendor.json")).unwrap();
        assert_eq!(names(&applied, "1.1b0"), names(&base, "1.0b0")[..2]);
        assert!(applied.warnings()[0]
            .message
            .starts_with("ignoring 2 packages from `vendor.json`"));
    }

    /// Every release passes through the overlay whole: its `Requires-Python` (what keeps
    /// an older Python's pins installable) is kept, selected or not.
    #[test]
    fn the_releases_keep_their_requires_python() {
        let text = release("1.1b0").replacen(
            r#""release": "1.1b0","#,
            r#""release": "1.1b0", "requires_python": ">=3.9","#,
            1,
        );
        let base = Registry::from_texts(&[("1.1b0.json", &text)]).unwrap();
        let overlay = r#"{"overlay": 1, "name": "vendor", "remove": ["opentelemetry-instrumentation-flask"]}"#;
        let applied = apply_text(&base, overlay, Path::new("vendor.json")).unwrap();
        let release = applied.load(&"1.1b0".parse().unwrap()).unwrap();
        assert_eq!(
            release
                .requires_python
                .as_ref()
                .map(|range| range.raw.as_str()),
            Some(">=3.9")
        );
    }
}

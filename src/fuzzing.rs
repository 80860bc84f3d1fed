//! Entry points for the fuzz targets in `fuzz/` (and the tests that replay their
//! regressions). Not a stable API: each function takes raw bytes, runs one parser the way
//! the tool does on outside input, and throws the result away. None of them may panic,
//! hang or allocate without bound, whatever the bytes.

use std::path::Path;

use crate::lockfile::{self, marker::MarkerTarget, GroupSelection};

/// `METADATA` / `PKG-INFO` header parsing, then the name and version checks the scanner
/// applies to what it read.
pub fn metadata(bytes: &[u8]) {
    if let Ok(metadata) = crate::scan::metadata::read_core_metadata(bytes) {
        if let Some(name) = metadata.name.as_deref() {
            let _ = crate::requirement::parse_name(name);
            let _ = crate::requirement::normalize(name);
        }
        if let Some(version) = metadata.version.as_deref() {
            let _ = crate::requirement::parse_version(version);
        }
    }
}

/// Site-packages entry names: the byte filter, the classification and the name
/// candidates.
/// The last candidate is the whole stem, normalized exactly as
/// [`crate::requirement::normalize`] does.
pub fn folder_name(bytes: &[u8]) {
    if let Some((described, tried)) = crate::scan::fuzz_folder_name(bytes) {
        let (_, stem) = described.split_once(' ').expect("kind and stem");
        assert_eq!(
            tried.last().map(String::as_str),
            Some(crate::requirement::normalize(stem).as_str()),
            "{stem:?}"
        );
    }
}

/// A requirement or version string as a registry or a lockfile would hold it.
pub fn requirement(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    if let Ok(requirement) = crate::requirement::PlainRequirement::parse(&text) {
        let _ = requirement.range_text();
        if let Some(version) = crate::requirement::parse_version(&text) {
            let _ = requirement.contains(&version);
        }
    }
    let _ = crate::requirement::parse_version(&text);
}

/// A registry release document, loaded and then queried like a run does.
pub fn registry(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    if let Ok(registry) = crate::registry::Registry::from_texts(&[("fuzz.json", &text)]) {
        let versions: Vec<_> = registry.versions().cloned().collect();
        for version in versions {
            if let Ok(release) = registry.load(&version) {
                let _ = release.is_partial();
                let _ = release.library_names().count();
            }
        }
        let _ = registry.describe_range();
    }
}

/// `bootstrap_gen.py` from an installed release the registry does not know: the reader,
/// then the release derived from it against the newest bundled release.
pub fn bootstrap_gen(bytes: &[u8]) {
    crate::registry::derive::fuzz(bytes);
}

fn text_of(bytes: &[u8]) -> Option<String> {
    lockfile::decode(bytes, Path::new("fuzz")).ok()
}

/// A requirements file (includes are returned by the parser, not followed).
pub fn requirements(bytes: &[u8]) {
    if let Some(text) = text_of(bytes) {
        let _ = lockfile::requirements::parse(&text, Path::new("requirements.txt"));
        let _ = lockfile::FileFormat::detect(Path::new("fuzz"), &text);
    }
}

/// A `uv.lock`, parsed and then selected with every marker true.
pub fn uv_lock(bytes: &[u8]) {
    if let Some(text) = text_of(bytes) {
        if let Ok(lock) = lockfile::uv::parse(&text, Path::new("uv.lock")) {
            let groups = GroupSelection::default().resolve(&[]);
            let _ = lock.select(&groups, &MarkerTarget::everything());
        }
    }
}

/// A `pylock.toml` (PEP 751), parsed and then selected with every marker true.
pub fn pylock(bytes: &[u8]) {
    if let Some(text) = text_of(bytes) {
        if let Ok(lock) = lockfile::pylock::parse(&text, Path::new("pylock.toml")) {
            let _ = lock.select(&GroupSelection::default(), &MarkerTarget::everything());
        }
    }
}

/// A `poetry.lock`, parsed and then selected with every marker true.
pub fn poetry_lock(bytes: &[u8]) {
    if let Some(text) = text_of(bytes) {
        if let Ok(lock) = lockfile::poetry::parse(&text, Path::new("poetry.lock")) {
            let _ = lock.select(&GroupSelection::default(), &MarkerTarget::everything());
        }
    }
}

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

/// A requirements file read the way `--from` reads it, includes resolved (from a directory
/// that does not exist, so nothing is read), with the property the redactor promises: no
/// message, note or version it yields holds the password of a URL in the input (a
/// password as the redactor delimits it, at least 8 characters, and found nowhere else in
/// the input).
pub fn requirements_redaction(bytes: &[u8]) {
    let Some(text) = text_of(bytes) else {
        return;
    };
    let path = Path::new("/nonexistent-otel-bootstrap-fuzz/requirements.txt");
    let mut files = Vec::new();
    let mut notes = Vec::new();
    let mut shown: Vec<String> = Vec::new();
    match lockfile::requirements::load(
        path,
        &text,
        &MarkerTarget::everything(),
        &mut files,
        &mut notes,
    ) {
        Ok(packages) => shown.extend(
            packages
                .iter()
                .map(|package| format!("{} {}", package.raw_version, package.location)),
        ),
        Err(error) => {
            shown.push(error.to_string());
            shown.extend(error.hint());
        }
    }
    shown.extend(notes.iter().map(ToString::to_string));
    for secret in url_passwords(&text) {
        for message in &shown {
            assert!(
                !message.contains(&secret),
                "{secret:?} printed in {message:?}"
            );
        }
    }
}

/// The passwords (and lone tokens) of `scheme://user:password@host` in `text`, delimited
/// as [`crate::redact::redact`] delimits them, that are at least 8 characters
/// long and occur nowhere in `text` outside their user information.
fn url_passwords(text: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    let mut outside = String::new();
    let mut rest = text;
    while let Some(index) = rest.find("://") {
        let (before, after) = rest.split_at(index + 3);
        outside.push_str(before);
        let end = after
            .find(|character: char| {
                matches!(character, '/' | '?' | '#' | '"' | '\'' | '`' | '<' | '>')
                    || character.is_whitespace()
            })
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(at) => {
                let user_info = &authority[..at];
                let secret = user_info
                    .split_once(':')
                    .map_or(user_info, |(_, password)| password);
                if secret.chars().count() >= 8 {
                    secrets.push(secret.to_owned());
                }
                outside.push(' ');
                outside.push_str(&authority[at..]);
            }
            None => outside.push_str(authority),
        }
        rest = &after[end..];
    }
    outside.push_str(rest);
    secrets.retain(|secret| !outside.contains(secret.as_str()));
    secrets
}

/// A `pyproject.toml` beside a lock: Poetry's groups and uv's default groups.
pub fn pyproject(bytes: &[u8]) {
    if let Some(text) = text_of(bytes) {
        let _ = lockfile::poetry::PoetryProject::parse(&text);
        let _ = lockfile::uv::default_groups_of(&text);
        let _ = lockfile::FileFormat::detect(Path::new("pyproject.toml"), &text);
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

/// A `pdm.lock`, parsed and then selected with every marker true.
pub fn pdm_lock(bytes: &[u8]) {
    if let Some(text) = text_of(bytes) {
        let _ = lockfile::pdm::PdmProject::parse(&text);
        if let Ok(lock) = lockfile::pdm::parse(&text, Path::new("pdm.lock")) {
            let _ = lock.select(
                &GroupSelection {
                    all_extras: true,
                    ..GroupSelection::default()
                },
                &lockfile::pdm::PdmProject::Unknown,
                &MarkerTarget::everything(),
            );
        }
    }
}

/// A `Pipfile.lock` (JSON), detected, parsed and then selected with every marker true.
pub fn pipfile_lock(bytes: &[u8]) {
    if let Some(text) = text_of(bytes) {
        let _ = lockfile::FileFormat::detect(Path::new("Pipfile-fuzz.lock"), &text);
        if let Ok(lock) = lockfile::pipfile::parse(&text, Path::new("Pipfile.lock")) {
            let _ = lock.select(
                &GroupSelection {
                    dev: true,
                    ..GroupSelection::default()
                },
                &MarkerTarget::everything(),
            );
        }
    }
}

/// A `poetry.lock`, parsed and then selected with every marker true.
pub fn poetry_lock(bytes: &[u8]) {
    if let Some(text) = text_of(bytes) {
        if let Ok(lock) = lockfile::poetry::parse(&text, Path::new("poetry.lock")) {
            let _ = lock.select(
                &GroupSelection::default(),
                &lockfile::poetry::PoetryProject::default(),
                &MarkerTarget::everything(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_passwords_the_redactor_hides() {
        assert_eq!(
            super::url_passwords("-r https://u:password1@h/x https://token123@h x"),
            ["password1", "token123"]
        );
        // Short ones, and ones the input holds elsewhere, cannot be checked.
        assert!(super::url_passwords("https://u:short@h").is_empty());
        assert!(super::url_passwords("password1 https://u:password1@h").is_empty());
    }
}

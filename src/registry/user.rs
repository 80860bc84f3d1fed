//! The user registry: release files in the user's data directory, written by
//! `otel-bootstrap registry update` (its default output) and by the index refresh, and read
//! by every run (see [`super::Registry::standard`]).
//!
//! The directory is, in order: `$OTEL_BOOTSTRAP_REGISTRY_DIR`; on Linux and other Unix
//! systems `$XDG_DATA_HOME/otel-bootstrap/releases`, else
//! `~/.local/share/otel-bootstrap/releases`; on macOS
//! `~/Library/Application Support/otel-bootstrap/releases`; on Windows
//! `%LOCALAPPDATA%\otel-bootstrap\releases`.
//!
//! Its files are outside input (another version of the tool, a user's edit, a full disk):
//! only regular `*.json` files of at most [`MAXIMUM_FILE_BYTES`] are read, and a file that
//! cannot be read, is not valid, is from a newer schema, or disagrees with its name is a
//! warning naming it, and is skipped.

use crate::requirement::Version;
use std::borrow::Cow;
use std::path::{Path, PathBuf};

use super::{parse_release, ReleaseSource, ReleaseText, SCHEMA_VERSION};
use crate::diagnostics::{Warning, WarningKind};

/// Overrides the user registry directory.
pub(crate) const DIRECTORY_ENV: &str = "OTEL_BOOTSTRAP_REGISTRY_DIR";
/// The most files read from the directory.
pub(crate) const MAXIMUM_FILES: usize = 1000;

/// The user registry directory (see the module documentation), if one can be named.
pub(crate) fn user_registry_dir() -> Option<PathBuf> {
    user_registry_dir_from(|name| std::env::var_os(name))
}

/// [`user_registry_dir`] with the environment given.
pub(crate) fn user_registry_dir_from(
    variable: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Option<PathBuf> {
    let non_empty = |name: &str| variable(name).filter(|value| !value.is_empty());
    if let Some(directory) = non_empty(DIRECTORY_ENV) {
        return Some(PathBuf::from(directory));
    }
    let base = if cfg!(windows) {
        non_empty("LOCALAPPDATA").map(PathBuf::from)
    } else if cfg!(target_os = "macos") {
        non_empty("HOME").map(|home| PathBuf::from(home).join("Library/Application Support"))
    } else {
        non_empty("XDG_DATA_HOME")
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
            .or_else(|| non_empty("HOME").map(|home| PathBuf::from(home).join(".local/share")))
    }?;
    Some(base.join("otel-bootstrap").join("releases"))
}

/// What the user registry adds to the bundled one.
pub(super) struct UserReleases {
    /// Releases the bundled registry does not know, read and validated.
    pub(super) newer: Vec<ReleaseText>,
    /// Files of releases the bundled registry knows too: read by
    /// [`super::Registry::standard`], parsed only when a run needs the release.
    pub(super) overlapping: Vec<(Version, PathBuf)>,
    /// A warning for each file skipped.
    pub(super) warnings: Vec<Warning>,
}

/// The warning for a user registry file that is skipped, with what makes it go away
/// (`fix`, a sentence that holds for this reason).
pub(super) fn ignored(file: &str, reason: &str, fix: &str) -> Warning {
    Warning::new(
        WarningKind::Unreadable,
        format!("ignoring the user registry file `{file}`: {reason}; {fix}"),
    )
}

/// The fix for a file of release `stem` that cannot be used: written again by the command
/// that writes it.
pub(super) fn rewrite(stem: &str) -> String {
    format!("`otel-bootstrap registry update --release {stem}` writes it again (or remove it)")
}

/// The user registry in `directory`, when it knows a release `bundled` does not (`None`
/// otherwise: then it is not read at all). A missing directory holds nothing. Only the
/// files of new releases are read and parsed here; the others are read by the caller and
/// parsed when a run needs them.
pub(super) fn load(directory: &Path, bundled: &[Version]) -> Option<UserReleases> {
    let entries = match std::fs::read_dir(directory) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return None,
        Err(error) => {
            return Some(UserReleases {
                newer: Vec::new(),
                overlapping: Vec::new(),
                warnings: vec![ignored(
                    &directory.display().to_string(),
                    &format!("cannot list it: {error}"),
                    "fix its permissions, or point OTEL_BOOTSTRAP_REGISTRY_DIR elsewhere",
                )],
            })
        }
    };
    let mut files: Vec<(Version, PathBuf)> = Vec::new();
    let mut warnings = Vec::new();
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
                && !path
                    .file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.starts_with('.'))
        })
        .collect();
    paths.sort();
    paths.truncate(MAXIMUM_FILES);
    for path in paths {
        let stem = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or("");
        match crate::requirement::parse_version(stem) {
            Some(version) if files.iter().any(|(seen, _)| *seen == version) => {
                warnings.push(ignored(
                    &path.display().to_string(),
                    "its release is in another file too",
                    "remove one of the two",
                ))
            }
            Some(version) => files.push((version, path)),
            None => warnings.push(ignored(
                &path.display().to_string(),
                "its name is not `<release>.json`",
                "rename it to `<release>.json`, or remove it",
            )),
        }
    }
    let (overlapping, new): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|(version, _)| bundled.contains(version));
    if new.is_empty() {
        return None;
    }
    let mut newer = Vec::new();
    for (version, path) in new {
        let origin = path.display().to_string();
        let stem = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or("")
            .to_owned();
        let text = match read_bounded(&path) {
            Ok(text) => text,
            Err(reason) => {
                warnings.push(ignored(&origin, &reason, &rewrite(&stem)));
                continue;
            }
        };
        let release = match parse_release(&text, &origin) {
            Ok(release) => release,
            Err(error) => {
                let newer_schema = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|value| value.get("schema").and_then(serde_json::Value::as_u64))
                    .filter(|schema| *schema > SCHEMA_VERSION);
                let (reason, fix) = match newer_schema {
                    Some(schema) => (
                        format!(
                            "it has schema {schema}, from a newer otel-bootstrap (this one reads {SCHEMA_VERSION})"
                        ),
                        "update otel-bootstrap (or remove the file)".to_owned(),
                    ),
                    None => (error.to_string(), rewrite(&stem)),
                };
                warnings.push(ignored(&origin, &reason, &fix));
                continue;
            }
        };
        if release.version != version {
            warnings.push(ignored(
                &origin,
                &format!("it holds release `{}`, not `{stem}`", release.raw_version),
                &rewrite(&stem),
            ));
            continue;
        }
        let (release, refused) = super::names::screen(release, &origin, false);
        warnings.extend(refused);
        newer.push(ReleaseText::ready(
            release,
            origin,
            Cow::Owned(text),
            ReleaseSource::User(path),
        ));
    }
    Some(UserReleases {
        newer,
        overlapping,
        warnings,
    })
}

/// A registry file under the one hardened reader ([`crate::untrusted`]): a regular file
/// (a FIFO or device is refused, and the open never blocks) of at most
/// [`MAXIMUM_FILE_BYTES`], as UTF-8 text.
pub(crate) fn read_bounded(path: &Path) -> Result<String, String> {
    crate::untrusted::read_text(path, crate::untrusted::FileKind::Registry)
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_follows_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| std::ffi::OsString::from(value))
            }
        };
        assert_eq!(
            user_registry_dir_from(env(&[(DIRECTORY_ENV, "/r"), ("HOME", "/h")])),
            Some(PathBuf::from("/r"))
        );
        if cfg!(all(unix, not(target_os = "macos"))) {
            assert_eq!(
                user_registry_dir_from(env(&[("XDG_DATA_HOME", "/x"), ("HOME", "/h")])),
                Some(PathBuf::from("/x/otel-bootstrap/releases"))
            );
            assert_eq!(
                user_registry_dir_from(env(&[("XDG_DATA_HOME", "relative"), ("HOME", "/h")])),
                Some(PathBuf::from("/h/.local/share/otel-bootstrap/releases"))
            );
            assert_eq!(user_registry_dir_from(env(&[])), None);
        }
    }
}

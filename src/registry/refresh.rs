//! Learning one release from a package index: the index refresh.
//!
//! When the installed `opentelemetry-instrumentation` is newer than every release the
//! registry knows, a run that may use the network (`-a install`, which talks to the index
//! anyway, or any run with `--refresh`; never with `--offline`) learns that release from
//! the same index the installer uses: which instrumentations were published at it (the
//! project pages) and each one's `instruments` / `instruments-any` (the PEP 658
//! `.metadata` file when the index serves one, else the wheel), exactly as
//! `registry update --release V` does. The result is cached in the user registry, so the
//! next run needs no network.

use std::path::{Path, PathBuf};

use crate::requirement::Version;
use anyhow::Context as _;

use super::fetch::render_one;
use super::generate::DEFAULT_INDEX_URL;
use super::ReleaseSource;
use crate::index::{default_cache_dir, redact_url, IndexClient};

/// The index to learn from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshSettings {
    /// A PEP 503 / 691 simple index.
    pub index_url: String,
    /// Where downloads are cached; `None` for [`default_cache_dir`].
    pub cache_dir: Option<PathBuf>,
}

impl RefreshSettings {
    /// `--index-url` when given, else `$UV_INDEX_URL`, `$UV_DEFAULT_INDEX`,
    /// `$PIP_INDEX_URL`, else PyPI: the index the installer would use.
    pub(crate) fn from_flag(index_url: Option<&str>) -> Self {
        Self::from_flag_and(index_url, |name| std::env::var(name).ok())
    }

    /// [`Self::from_flag`] with the environment given.
    pub(crate) fn from_flag_and(
        index_url: Option<&str>,
        variable: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let index_url = index_url
            .map(str::to_owned)
            .or_else(|| {
                ["UV_INDEX_URL", "UV_DEFAULT_INDEX", "PIP_INDEX_URL"]
                    .iter()
                    .find_map(|name| variable(name).filter(|value| !value.trim().is_empty()))
            })
            .map(|value| value.trim().to_owned())
            .unwrap_or_else(|| DEFAULT_INDEX_URL.to_owned());
        Self {
            index_url,
            cache_dir: None,
        }
    }

    /// [`Self::from_flag`], or `None` when the installer is told to use no index
    /// (`--no-index` after `--`, `PIP_NO_INDEX`, `UV_NO_INDEX`): then nothing is learned
    /// from the network either.
    pub(crate) fn for_install(
        index_url: Option<&str>,
        installer_args: &[std::ffi::OsString],
    ) -> Option<Self> {
        Self::for_install_and(index_url, installer_args, |name| std::env::var(name).ok())
    }

    /// [`Self::for_install`] with the environment given.
    pub(crate) fn for_install_and(
        index_url: Option<&str>,
        installer_args: &[std::ffi::OsString],
        variable: impl Fn(&str) -> Option<String>,
    ) -> Option<Self> {
        let truthy = |value: String| {
            matches!(
                value.trim().to_ascii_lowercase().as_str(),
                "1" | "true" | "yes" | "on"
            )
        };
        let no_index = installer_args.iter().any(|arg| arg == "--no-index")
            || ["PIP_NO_INDEX", "UV_NO_INDEX"]
                .iter()
                .any(|name| variable(name).is_some_and(truthy));
        (!no_index).then(|| Self::from_flag_and(index_url, variable))
    }

    /// The index URL with any credentials replaced.
    pub(crate) fn index_url_redacted(&self) -> String {
        redact_url(&self.index_url)
    }
}

/// A release learned from the index.
#[derive(Debug, Clone)]
pub struct Learned {
    /// The release document (the schema of `data/README.md`).
    pub json: String,
    /// The file it was cached in, or the index URL.
    pub origin: String,
    pub source: ReleaseSource,
}

/// Learns `release` from the index and, when `user_dir` is given, writes it there as
/// `<release>.json` (a temporary file and a rename: a failure leaves nothing behind).
pub fn learn_release(
    settings: &RefreshSettings,
    release: &Version,
    user_dir: Option<&Path>,
) -> anyhow::Result<Learned> {
    let client = IndexClient::new(&settings.index_url)?
        .with_cache_dir(settings.cache_dir.clone().or_else(default_cache_dir));
    let json = render_one(&client, release)?;
    let Some(directory) = user_dir else {
        return Ok(Learned {
            json,
            origin: settings.index_url_redacted(),
            source: ReleaseSource::Index(settings.index_url_redacted()),
        });
    };
    let path = directory.join(format!("{release}.json"));
    write_atomically(&path, &json)?;
    Ok(Learned {
        json,
        origin: path.display().to_string(),
        source: ReleaseSource::User(path),
    })
}

/// Writes `contents` to `path` through [`crate::untrusted::write_atomically`] (a new file
/// with a random name, never a planted link, then a rename).
pub(crate) fn write_atomically(path: &Path, contents: &str) -> anyhow::Result<()> {
    crate::untrusted::write_atomically(path, contents.as_bytes())
        .with_context(|| format!("could not write `{}`", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_is_the_installers() {
        let none = |_: &str| None;
        assert_eq!(
            RefreshSettings::from_flag_and(None, none).index_url,
            DEFAULT_INDEX_URL
        );
        let env =
            |name: &str| (name == "PIP_INDEX_URL").then(|| " https://u:p@pip/simple ".to_owned());
        let settings = RefreshSettings::from_flag_and(None, env);
        assert_eq!(settings.index_url, "https://u:p@pip/simple");
        assert_eq!(settings.index_url_redacted(), "https://u:****@pip/simple");
        assert_eq!(
            RefreshSettings::from_flag_and(Some("https://flag/simple/"), env).index_url,
            "https://flag/simple/"
        );
        let no_index = |name: &str| (name == "UV_NO_INDEX").then(|| "true".to_owned());
        assert_eq!(RefreshSettings::for_install_and(None, &[], no_index), None);
        assert_eq!(
            RefreshSettings::for_install_and(None, &["--no-index".into()], none),
            None
        );
        assert!(RefreshSettings::for_install_and(None, &[], none).is_some());
    }
}

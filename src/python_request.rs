//! `--python` requests as uv reads them: `3.12`, `3.12.1`, `python3.12`, `cpython@3.12`,
//! `pypy3.10`, `>=3.11,<3.13`, or a path.
//!
//! Pure: [`PythonRequest::parse`] reads the text, [`PythonRequest::matches`] tells whether
//! an interpreter (implementation and full version) satisfies it, and
//! [`PythonRequest::executable_names`] orders the names worth trying in one `PATH`
//! directory. Finding the candidates (the active or project environment, `PATH`,
//! uv-managed interpreters) and asking them is `environment`'s work. Version comparisons
//! go through [`crate::requirement`].

use std::fmt;

use crate::requirement::{parse_specifiers, parse_version, Version, VersionSpecifiers};

/// What `--python` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PythonRequest {
    /// A path to an interpreter or an environment (or a bare executable name that is
    /// not a request, looked up on `PATH`).
    Path(String),
    /// An interpreter by implementation and version.
    Interpreter {
        implementation: Implementation,
        version: VersionRequest,
        /// As written, for messages.
        text: String,
    },
}

/// Which Python implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Implementation {
    /// `python`, or no prefix: any implementation.
    Any,
    CPython,
    PyPy,
    GraalPy,
}

impl Implementation {
    /// The prefixes as written (lowercase), longest first where one starts another.
    const PREFIXES: [(&'static str, Implementation); 4] = [
        ("cpython", Implementation::CPython),
        ("pypy", Implementation::PyPy),
        ("graalpy", Implementation::GraalPy),
        ("python", Implementation::Any),
    ];

    /// Whether `name` (`platform.python_implementation()`: `CPython`, `PyPy`, ...) is
    /// this implementation.
    pub(crate) fn matches(self, name: &str) -> bool {
        match self {
            Self::Any => true,
            Self::CPython => name.eq_ignore_ascii_case("cpython"),
            Self::PyPy => name.eq_ignore_ascii_case("pypy"),
            Self::GraalPy => name.eq_ignore_ascii_case("graalpy"),
        }
    }

    /// The executable stem in `PATH` directories (`python3.12`, `pypy3.10`).
    fn executable_stem(self) -> &'static str {
        match self {
            Self::Any | Self::CPython => "python",
            Self::PyPy => "pypy",
            Self::GraalPy => "graalpy",
        }
    }
}

/// Which versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VersionRequest {
    Any,
    /// `3`: any 3.x.
    Major(u64),
    /// `3.12`: any 3.12.x.
    MajorMinor(u64, u64),
    /// `3.12.1`.
    Exact(u64, u64, u64),
    /// `>=3.11,<3.13` (PEP 440 specifiers).
    Range(VersionSpecifiers),
}

impl PythonRequest {
    /// Reads `--python`'s value. Anything with a path separator, starting with `.` or
    /// `~`, or not shaped like a request is a [`PythonRequest::Path`].
    pub(crate) fn parse(text: &str) -> Self {
        let path = || Self::Path(text.to_owned());
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed.contains(['/', '\\']) || trimmed.starts_with(['.', '~']) {
            return path();
        }
        let lower = trimmed.to_ascii_lowercase();
        let (implementation, rest) = Implementation::PREFIXES
            .iter()
            .find_map(|(prefix, implementation)| {
                lower
                    .strip_prefix(prefix)
                    .map(|rest| (*implementation, rest))
            })
            .map(|(implementation, rest)| {
                let rest = rest
                    .strip_prefix('@')
                    .or_else(|| rest.strip_prefix('-'))
                    .unwrap_or(rest);
                (implementation, rest)
            })
            .unwrap_or((Implementation::Any, lower.as_str()));
        let Some(version) = VersionRequest::parse(rest) else {
            return path();
        };
        Self::Interpreter {
            implementation,
            version,
            text: trimmed.to_owned(),
        }
    }

    /// Whether an interpreter of `implementation` at `version` (its full version, e.g.
    /// `3.12.1`) satisfies the request; a path request matches nothing.
    pub(crate) fn matches(&self, implementation: &str, version: &str) -> bool {
        match self {
            Self::Path(_) => false,
            Self::Interpreter {
                implementation: wanted,
                version: wanted_version,
                ..
            } => wanted.matches(implementation) && wanted_version.matches(version),
        }
    }

    /// The executables to try in one `PATH` directory, in order, given the names the
    /// directory holds: the exact `python3.12` first, then every `python3.N` that might
    /// match (newest first), then `python3` and `python` (uv's order).
    pub(crate) fn executable_names(&self, present: &[String]) -> Vec<String> {
        let Self::Interpreter {
            implementation,
            version,
            ..
        } = self
        else {
            return Vec::new();
        };
        let stem = implementation.executable_stem();
        let mut minors: Vec<(u64, u64, &String)> = present
            .iter()
            .filter_map(|name| {
                let suffix = name.strip_prefix(stem)?;
                let (major, minor) = suffix.split_once('.')?;
                let major = major.parse().ok()?;
                let minor = minor.parse().ok()?;
                Some((major, minor, name))
            })
            .filter(|(major, minor, _)| version.may_match_minor(*major, *minor))
            .collect();
        minors.sort_by_key(|(major, minor, _)| std::cmp::Reverse((*major, *minor)));
        let mut names: Vec<String> = minors
            .into_iter()
            .map(|(_, _, name)| name.clone())
            .collect();
        let major = match version {
            VersionRequest::Major(major)
            | VersionRequest::MajorMinor(major, _)
            | VersionRequest::Exact(major, _, _) => Some(*major),
            VersionRequest::Any | VersionRequest::Range(_) => None,
        };
        if major.is_none_or(|major| major == 3) {
            names.push(format!("{stem}3"));
        }
        names.push(stem.to_owned());
        names.retain(|name| present.contains(name));
        names
    }
}

impl VersionRequest {
    /// `""`, `3`, `3.12`, `3.12.1`, or specifiers (`>=3.11`, `==3.12.*`, `~=3.11`).
    fn parse(text: &str) -> Option<Self> {
        if text.is_empty() {
            return Some(Self::Any);
        }
        if text.starts_with(['<', '>', '=', '!', '~']) {
            return parse_specifiers(text).map(Self::Range);
        }
        let parts: Vec<u64> = text
            .split('.')
            .map(|part| {
                if part.is_empty() || !part.bytes().all(|byte| byte.is_ascii_digit()) {
                    None
                } else {
                    part.parse().ok()
                }
            })
            .collect::<Option<_>>()?;
        match parts.as_slice() {
            [major] => Some(Self::Major(*major)),
            [major, minor] => Some(Self::MajorMinor(*major, *minor)),
            [major, minor, patch] => Some(Self::Exact(*major, *minor, *patch)),
            _ => None,
        }
    }

    /// Whether the full version `version` (`3.12.1`, `3.13.0rc2`) satisfies the request.
    pub(crate) fn matches(&self, version: &str) -> bool {
        let Some(parsed) = parse_version(version) else {
            return false;
        };
        let release = parsed.release();
        let part = |index: usize| release.get(index).copied().unwrap_or(0);
        match self {
            Self::Any => true,
            Self::Major(major) => part(0) == *major,
            Self::MajorMinor(major, minor) => (part(0), part(1)) == (*major, *minor),
            Self::Exact(major, minor, patch) => {
                (part(0), part(1), part(2)) == (*major, *minor, *patch)
            }
            Self::Range(specifiers) => specifiers.contains(&final_release(&parsed)),
        }
    }

    /// Whether some `major.minor.x` could satisfy the request.
    fn may_match_minor(&self, major: u64, minor: u64) -> bool {
        match self {
            Self::Any => true,
            Self::Major(wanted) => major == *wanted,
            Self::MajorMinor(wanted_major, wanted_minor)
            | Self::Exact(wanted_major, wanted_minor, _) => {
                (major, minor) == (*wanted_major, *wanted_minor)
            }
            // Any patch release of the minor: the lowest and a high one bracket it.
            Self::Range(specifiers) => [0, 999].iter().any(|patch| {
                parse_version(&format!("{major}.{minor}.{patch}"))
                    .is_some_and(|version| specifiers.contains(&version))
            }),
        }
    }
}

/// A pre-release interpreter (`3.14.0rc2`) is compared as its release (`3.14.0`), as
/// uv does.
fn final_release(version: &Version) -> Version {
    let release: Vec<String> = version.release().iter().map(u64::to_string).collect();
    parse_version(&release.join(".")).unwrap_or_else(|| version.clone())
}

impl fmt::Display for PythonRequest {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path(path) => write!(formatter, "`{path}`"),
            Self::Interpreter { text, .. } => write!(formatter, "`{text}`"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(text: &str) -> PythonRequest {
        PythonRequest::parse(text)
    }

    #[test]
    fn parses_uv_request_forms() {
        let interpreter = |text: &str, implementation, version| PythonRequest::Interpreter {
            implementation,
            version,
            text: text.to_owned(),
        };
        use Implementation::*;
        for (text, expected) in [
            ("3", interpreter("3", Any, VersionRequest::Major(3))),
            (
                "3.12",
                interpreter("3.12", Any, VersionRequest::MajorMinor(3, 12)),
            ),
            (
                "3.12.1",
                interpreter("3.12.1", Any, VersionRequest::Exact(3, 12, 1)),
            ),
            (
                "python3.12",
                interpreter("python3.12", Any, VersionRequest::MajorMinor(3, 12)),
            ),
            ("python", interpreter("python", Any, VersionRequest::Any)),
            (
                "python3",
                interpreter("python3", Any, VersionRequest::Major(3)),
            ),
            (
                "cpython@3.12",
                interpreter("cpython@3.12", CPython, VersionRequest::MajorMinor(3, 12)),
            ),
            (
                "CPython-3.12",
                interpreter("CPython-3.12", CPython, VersionRequest::MajorMinor(3, 12)),
            ),
            (
                "pypy3.10",
                interpreter("pypy3.10", PyPy, VersionRequest::MajorMinor(3, 10)),
            ),
        ] {
            assert_eq!(request(text), expected, "{text}");
        }
        assert!(matches!(
            request(">=3.11"),
            PythonRequest::Interpreter {
                version: VersionRequest::Range(_),
                ..
            }
        ));
        assert!(matches!(
            request("cpython@>=3.11,<3.13"),
            PythonRequest::Interpreter {
                implementation: CPython,
                version: VersionRequest::Range(_),
                ..
            }
        ));
        for path in [
            ".venv",
            "./3.11",
            "/usr/bin/python3",
            "venv/bin/python",
            "~/py",
            "myenv",
            "3.x",
            "python3.12.1.4",
            "cp312",
            ">=banana",
            "",
        ] {
            assert_eq!(
                request(path),
                PythonRequest::Path(path.to_owned()),
                "{path}"
            );
        }
    }

    #[test]
    fn matches_implementations_and_versions() {
        assert!(request("3.12").matches("CPython", "3.12.1"));
        assert!(!request("3.12").matches("CPython", "3.11.7"));
        assert!(request("3.12.1").matches("CPython", "3.12.1"));
        assert!(!request("3.12.1").matches("CPython", "3.12.10"));
        assert!(request("cpython@3.12").matches("CPython", "3.12.1"));
        assert!(!request("cpython@3.12").matches("PyPy", "3.12.1"));
        assert!(request("pypy3").matches("PyPy", "3.10.14"));
        assert!(request(">=3.11").matches("CPython", "3.13.0"));
        assert!(request(">=3.11").matches("CPython", "3.14.0rc2"));
        assert!(!request(">=3.11").matches("CPython", "3.10.13"));
        assert!(request(">=3.11,<3.13").matches("CPython", "3.12.1"));
        assert!(!request(">=3.11,<3.13").matches("CPython", "3.13.0"));
        assert!(request("python").matches("GraalPy", "3.11.0"));
        assert!(!request("3.12").matches("CPython", "not a version"));
        assert!(!request(".venv").matches("CPython", "3.12.1"));
    }

    #[test]
    fn orders_executables_as_uv_does() {
        let present: Vec<String> = [
            "python",
            "python3",
            "python3.9",
            "python3.11",
            "python3.12",
            "python3.12-config",
            "pypy3",
        ]
        .map(str::to_owned)
        .to_vec();
        assert_eq!(
            request("3.12").executable_names(&present),
            ["python3.12", "python3", "python"]
        );
        assert_eq!(
            request("3.13").executable_names(&present),
            ["python3", "python"]
        );
        assert_eq!(
            request(">=3.10").executable_names(&present),
            ["python3.12", "python3.11", "python3", "python"]
        );
        assert_eq!(
            request("3").executable_names(&present),
            ["python3.12", "python3.11", "python3.9", "python3", "python"]
        );
        assert_eq!(request("2.7").executable_names(&present), ["python"]);
        assert_eq!(request("pypy@3.10").executable_names(&present), ["pypy3"]);
        assert!(request("./x").executable_names(&present).is_empty());
    }
}

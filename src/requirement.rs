//! Parsing the requirement and version strings that come from outside: registries,
//! METADATA files and, later, lockfiles.
//!
//! `pep508_rs` 0.9.2 panics on some malformed names (`foo. >= 1`): its parser accepts a
//! trailing `.` that its own name validation then rejects with an `expect`. Every string is
//! checked here first, and the parser runs behind `catch_unwind` as a last line of defence,
//! so hostile input becomes an error, never a crash.

use std::panic::{catch_unwind, AssertUnwindSafe};

// The types of the PEP crates the rest of the tool uses, re-exported: every other module
// reaches `pep440_rs` / `pep508_rs` through here (`tests/it/architecture.rs` checks it).
pub use pep440_rs::{
    Operator, Prerelease, PrereleaseKind, Version, VersionSpecifier, VersionSpecifiers,
};
pub use pep508_rs::{
    ExtraName, MarkerEnvironment, MarkerEnvironmentBuilder, MarkerTree, PackageName, Requirement,
    VersionOrUrl,
};

/// A requirement on a plain package name with an optional version range: what the
/// registry may contain. The raw text is kept for printing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlainRequirement {
    /// The text exactly as written.
    pub raw: String,
    /// The normalized (PEP 503) name.
    pub name: PackageName,
    /// The version range; empty when the requirement names no version.
    pub specifiers: VersionSpecifiers,
}

/// Why a requirement string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequirementError {
    #[error("`{0}` is not a valid requirement: the name must start and end with a letter or digit and contain only letters, digits, `-`, `_` and `.`")]
    InvalidName(String),
    #[error("`{raw}` is not a valid requirement: {message}")]
    Syntax { raw: String, message: String },
    #[error(
        "`{0}` points at a URL or a path; only package names with version ranges are allowed here"
    )]
    DirectReference(String),
    #[error("`{0}` has an environment marker; none is allowed here")]
    Marker(String),
    #[error("`{0}` has extras; none is allowed here")]
    Extras(String),
}

impl PlainRequirement {
    /// Parses `raw` (e.g. `flask>=1.0`, `opentelemetry-instrumentation-flask==0.66b1`).
    pub fn parse(raw: &str) -> Result<Self, RequirementError> {
        let trimmed = raw.trim();
        check_leading_name(trimmed)?;
        if let Some(reason) = pep508_hazard(trimmed) {
            return Err(RequirementError::Syntax {
                raw: trimmed.to_owned(),
                message: reason.to_owned(),
            });
        }
        let parsed = catch_unwind(AssertUnwindSafe(|| trimmed.parse::<Requirement>()))
            .map_err(|_| RequirementError::InvalidName(trimmed.to_owned()))?
            .map_err(|error| RequirementError::Syntax {
                raw: trimmed.to_owned(),
                message: first_line(&error.message.to_string()),
            })?;
        if !parsed.extras.is_empty() {
            return Err(RequirementError::Extras(trimmed.to_owned()));
        }
        if !parsed.marker.is_true() {
            return Err(RequirementError::Marker(trimmed.to_owned()));
        }
        let specifiers = match parsed.version_or_url {
            None => VersionSpecifiers::empty(),
            Some(VersionOrUrl::VersionSpecifier(specifiers)) => specifiers,
            Some(VersionOrUrl::Url(_)) => {
                return Err(RequirementError::DirectReference(trimmed.to_owned()))
            }
        };
        Ok(Self {
            raw: trimmed.to_owned(),
            name: parsed.name,
            specifiers,
        })
    }

    /// Whether `version` is inside the range. Pre-releases and dev releases count when
    /// inside it: for an installed version that is PEP 440's "already present" rule.
    ///
    /// Evaluated as `packaging` >= 26 does (`SpecifierSet.contains(v, prereleases=True)`),
    /// which `pep440_rs` 0.7.3 does not for four operators; see [`specifier_contains`].
    pub fn contains(&self, version: &Version) -> bool {
        self.specifiers
            .iter()
            .all(|specifier| specifier_contains(specifier, version))
    }

    /// The version an `==V` requirement pins, when that is all it says (not `==V.*`).
    pub fn exact_version(&self) -> Option<&Version> {
        match self.specifiers.iter().collect::<Vec<_>>()[..] {
            [specifier] if *specifier.operator() == Operator::Equal => Some(specifier.version()),
            _ => None,
        }
    }

    /// The range as written (`>=1.0`), or `any version`.
    pub fn range_text(&self) -> String {
        let name_length = self
            .raw
            .find(|character: char| !is_name_character(character));
        match name_length {
            Some(index) => self.raw[index..].trim().to_owned(),
            None => "any version".to_owned(),
        }
    }
}

/// One `Requires-Dist` of an installed distribution: a name, the extras it asks of that
/// project, a version range or a URL, and an environment marker.
#[derive(Debug, Clone)]
pub struct Dependency {
    /// The normalized name of the project required.
    pub name: PackageName,
    /// The extras asked of it (`opentelemetry-exporter-http-transport[requests]`).
    pub extras: Vec<String>,
    /// `None` for a bare name or a direct URL.
    specifiers: Option<VersionSpecifiers>,
    marker: pep508_rs::MarkerTree,
    /// The requirement as written, without its marker.
    pub text: String,
}

impl Dependency {
    /// Parses one `Requires-Dist` value; `None` for what cannot be parsed (it cannot be
    /// checked, so it is skipped like a requirement that does not apply). Guarded like
    /// [`PlainRequirement::parse`].
    pub fn parse(line: &str) -> Option<Self> {
        let line = line.trim();
        if check_leading_name(line).is_err() || pep508_hazard(line).is_some() {
            return None;
        }
        let parsed: Requirement = catch_unwind(AssertUnwindSafe(|| line.parse::<Requirement>()))
            .ok()?
            .ok()?;
        let extras: Vec<String> = parsed.extras.iter().map(ToString::to_string).collect();
        // As written, without the marker (`Display` would reorder the specifiers).
        let marker_start = if line.contains('@') {
            line.find(" ;")
        } else {
            line.find(';')
        };
        let text = line[..marker_start.unwrap_or(line.len())].trim().to_owned();
        let specifiers = match parsed.version_or_url {
            Some(VersionOrUrl::VersionSpecifier(specifiers)) => Some(specifiers),
            Some(VersionOrUrl::Url(_)) | None => None,
        };
        Some(Self {
            name: parsed.name,
            extras,
            specifiers,
            marker: parsed.marker,
            text,
        })
    }

    /// Whether the requirement applies to an environment with `markers` when the
    /// distribution that declares it is installed with `extras`. Without a marker
    /// environment, markers that depend on it count as true (the stricter reading).
    pub fn applies(&self, markers: Option<&MarkerEnvironment>, extras: &[String]) -> bool {
        let extras: Vec<ExtraName> = extras
            .iter()
            .filter_map(|extra| ExtraName::new(extra.clone()).ok())
            .collect();
        self.marker.evaluate_optional_environment(markers, &extras)
    }

    /// Whether `version` satisfies the range (always, for a bare name or a URL), with the
    /// same operator semantics as [`PlainRequirement::contains`].
    pub fn accepts(&self, version: &Version) -> bool {
        self.specifiers.as_ref().is_none_or(|specifiers| {
            specifiers
                .iter()
                .all(|specifier| specifier_contains(specifier, version))
        })
    }

    /// Whether the requirement names a version range (not a bare name, not a URL).
    pub fn has_range(&self) -> bool {
        self.specifiers
            .as_ref()
            .is_some_and(|specifiers| !specifiers.is_empty())
    }
}

/// The version one step from `version` in a direction: the last release segment (or the
/// pre-release number) one lower or one higher. Used to ask whether a requirement pins a
/// version tightly enough that a move in that direction breaks it.
pub fn neighbour(version: &Version, upwards: bool) -> Option<Version> {
    if let Some(pre) = version.pre() {
        let number = if upwards {
            pre.number.checked_add(1)?
        } else {
            pre.number.checked_sub(1)?
        };
        return Some(
            version
                .clone()
                .with_pre(Some(Prerelease {
                    kind: pre.kind,
                    number,
                }))
                .with_dev(None)
                .with_post(None)
                .without_local(),
        );
    }
    let mut release = version.release().to_vec();
    let last = release.last_mut()?;
    *last = if upwards {
        last.checked_add(1)?
    } else {
        last.checked_sub(1)?
    };
    Some(Version::new(release))
}

/// Parses a PEP 508 marker expression without ever panicking.
pub fn parse_marker(text: &str) -> Result<pep508_rs::MarkerTree, String> {
    if let Some(reason) = pep508_hazard(text) {
        return Err(format!(
            "`{}` is not a valid environment marker: {reason}",
            text.trim()
        ));
    }
    match catch_unwind(AssertUnwindSafe(|| {
        <pep508_rs::MarkerTree as std::str::FromStr>::from_str(text)
    })) {
        Ok(Ok(marker)) => Ok(marker),
        Ok(Err(error)) => Err(format!(
            "`{}` is not a valid environment marker: {}",
            text.trim(),
            error.to_string().lines().next().unwrap_or_default()
        )),
        Err(_) => Err(format!(
            "`{}` is not a valid environment marker",
            text.trim()
        )),
    }
}

/// Why a full PEP 508 requirement did not parse: the reason, and the character column of
/// the problem when the parser names one (its own message quotes the input, which may hold
/// a secret, so it is never passed on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub reason: Option<&'static str>,
    pub column: Option<usize>,
}

/// Parses a full PEP 508 requirement (name, extras, version or URL, marker) without ever
/// panicking, for lock and requirements files.
pub fn parse_requirement(text: &str) -> Result<Requirement, SyntaxError> {
    if let Some(reason) = pep508_hazard(text) {
        return Err(SyntaxError {
            reason: Some(reason),
            column: None,
        });
    }
    match catch_unwind(AssertUnwindSafe(|| text.parse::<Requirement>())) {
        Ok(Ok(requirement)) => Ok(requirement),
        Ok(Err(error)) => Err(SyntaxError {
            reason: None,
            column: Some(text[..error.start.min(text.len())].chars().count() + 1),
        }),
        Err(_) => Err(SyntaxError {
            reason: None,
            column: None,
        }),
    }
}

/// Parses a version range (`>=3.9,<4`) without ever panicking; `None` when it is not one.
pub fn parse_specifiers(text: &str) -> Option<VersionSpecifiers> {
    catch_unwind(|| text.trim().parse::<VersionSpecifiers>().ok())
        .ok()
        .flatten()
}

/// How deeply marker parentheses may nest; real markers use two or three levels.
const MAXIMUM_MARKER_NESTING: usize = 32;

/// Why `text` must not reach `pep508_rs` 0.9.2, or `None` when it may. Checked before
/// every requirement or marker parse, whatever the source (registry, lockfile, METADATA):
/// - it slices marker text at byte offsets that may fall inside a multi-byte character and
///   panics (found by fuzzing, kept in `tests/data/fuzz-regressions/requirement/`); a
///   requirement is ASCII anyway;
/// - it recurses once per `(`, so a deeply nested marker overflows the stack, an abort
///   that no `catch_unwind` can contain (found by fuzzing, same place).
pub fn pep508_hazard(text: &str) -> Option<&'static str> {
    if !text.is_ascii() {
        return Some("it contains a character that is not ASCII");
    }
    let mut depth = 0usize;
    for byte in text.bytes() {
        match byte {
            b'(' => {
                depth += 1;
                if depth > MAXIMUM_MARKER_NESTING {
                    return Some("its parentheses nest too deeply");
                }
            }
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Parses a package name (PEP 508 rules), normalizing it.
pub fn parse_name(raw: &str) -> Option<PackageName> {
    let trimmed = raw.trim();
    if !is_valid_name(trimmed) {
        return None;
    }
    PackageName::new(trimmed.to_owned()).ok()
}

/// Parses a version without ever panicking.
pub fn parse_version(raw: &str) -> Option<Version> {
    catch_unwind(|| raw.trim().parse::<Version>().ok())
        .ok()
        .flatten()
}

/// PEP 503 normalization of any string (lowercase, runs of `-`, `_`, `.` become one `-`),
/// for names that may not be valid (folder names); valid names normalize like
/// [`PackageName`].
pub fn normalize(name: &str) -> String {
    let mut normalized = String::with_capacity(name.len());
    let mut previous_separator = false;
    for character in name.chars() {
        if matches!(character, '-' | '_' | '.') {
            if !previous_separator {
                normalized.push('-');
            }
            previous_separator = true;
        } else {
            normalized.extend(character.to_lowercase());
            previous_separator = false;
        }
    }
    normalized
}

/// One clause, as `packaging` >= 26 evaluates it. `pep440_rs` 0.7.3 differs on:
///
/// * `<V`: it rejects every pre-release of V's release, even when V is itself a
///   pre-release (`3.0.0a7` in `<3.0.0a8`), has a post segment (`1.0a1` in `<1.0.post1`)
///   or another epoch (`0.1.dev0` in `<1!0.1`). PEP 440: below V, and below V's first
///   pre-release (`V.dev0`) unless V is a pre-release.
/// * `>V`: it rejects every post-release of V's release, even when V is a pre-release or
///   dev release (`1.post1` in `>1a1.dev1`). PEP 440: above V, and not a post-release of
///   V itself (nor V with a local label).
/// * `==V.*` / `!=V.*`: it compares only as many release segments as the candidate has,
///   so `2` matched `==2.2.*`. PEP 440 pads the candidate with zeros.
///
/// The other operators agree (checked against `packaging` in `tests/properties.rs`).
fn specifier_contains(specifier: &VersionSpecifier, version: &Version) -> bool {
    let bound = specifier.version();
    match specifier.operator() {
        Operator::LessThan => {
            let limit = if bound.any_prerelease() {
                bound.clone()
            } else {
                bound.clone().without_local().with_dev(Some(0))
            };
            *version < limit
        }
        Operator::GreaterThan => match (bound.dev(), bound.post()) {
            (Some(dev), _) => *version >= bound.clone().with_dev(Some(dev + 1)),
            (None, Some(post)) => {
                *version >= bound.clone().with_post(Some(post + 1)).with_dev(Some(0))
            }
            (None, None) => {
                let family = version
                    .clone()
                    .without_local()
                    .with_post(None)
                    .with_dev(None);
                *version > *bound && family != *bound
            }
        },
        Operator::EqualStar => prefix_matches(bound, version),
        Operator::NotEqualStar => !prefix_matches(bound, version),
        _ => specifier.contains(version),
    }
}

/// `==prefix.*`: same epoch, and the candidate's release, padded with zeros, starts with
/// the prefix's release.
fn prefix_matches(prefix: &Version, version: &Version) -> bool {
    let release = version.release();
    prefix.epoch() == version.epoch()
        && prefix
            .release()
            .iter()
            .enumerate()
            .all(|(index, segment)| release.get(index).copied().unwrap_or(0) == *segment)
}

/// The name at the start of a requirement as written (`flask` of `flask>=1.0`), not
/// normalized; empty when it starts with something else.
pub fn leading_name(requirement: &str) -> &str {
    let end = requirement
        .find(|character: char| !is_name_character(character))
        .unwrap_or(requirement.len());
    &requirement[..end]
}

fn is_name_character(character: char) -> bool {
    character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '.')
}

/// PEP 508: `^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$`, case-insensitively.
fn is_valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && name.chars().all(is_name_character)
        }
        _ => false,
    }
}

/// Checks the name at the start of a requirement and the names of any extras, the two
/// places where `pep508_rs` would otherwise panic.
fn check_leading_name(requirement: &str) -> Result<(), RequirementError> {
    let end = requirement
        .find(|character: char| !is_name_character(character))
        .unwrap_or(requirement.len());
    if !is_valid_name(&requirement[..end]) {
        return Err(RequirementError::InvalidName(requirement.to_owned()));
    }
    let rest = requirement[end..].trim_start();
    if let Some(extras) = rest.strip_prefix('[') {
        let close = extras.find(']').unwrap_or(extras.len());
        for extra in extras[..close].split(',') {
            if !is_valid_name(extra.trim()) {
                return Err(RequirementError::InvalidName(requirement.to_owned()));
            }
        }
    }
    Ok(())
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(text: &str) -> Version {
        text.parse().unwrap()
    }

    #[test]
    fn keeps_the_raw_text_and_normalizes_the_name() {
        let requirement = PlainRequirement::parse("aio_pika >= 7.2.0, < 11.0.0").unwrap();
        assert_eq!(requirement.raw, "aio_pika >= 7.2.0, < 11.0.0");
        assert_eq!(requirement.name.as_ref(), "aio-pika");
        assert_eq!(requirement.range_text(), ">= 7.2.0, < 11.0.0");
        assert!(requirement.contains(&version("9.0")));
        assert!(!requirement.contains(&version("11.0.0")));
    }

    #[test]
    fn bare_names_accept_any_version() {
        let requirement =
            PlainRequirement::parse("opentelemetry-instrumentation-openai-v2").unwrap();
        assert!(requirement.specifiers.is_empty());
        assert_eq!(requirement.range_text(), "any version");
        assert!(requirement.contains(&version("0.0.1.dev3")));
    }

    #[test]
    fn matching_follows_pep_440() {
        let cases = [
            ("sqlalchemy>=1.0.0,<2.1.0", "2.1.0", false),
            ("sqlalchemy>=1.0.0,<2.1.0", "2.0.30", true),
            // An installed pre-release inside the range matches ("already present").
            ("sqlalchemy>=1.0.0,<2.1.0", "2.1.0b1", false),
            ("sqlalchemy>=1.0.0,<2.1.0", "2.0.0rc1", true),
            ("flask>=1.0", "3.1.0.dev2", true),
            // Local versions.
            ("requests~=2.0", "2.31.0+ubuntu1", true),
            ("requests==2.31.0", "2.31.0+local", true),
            ("requests==2.31.0+local", "2.31.0", false),
            // Compatible release.
            ("aiohttp~=3.0", "3.9.5", true),
            ("aiohttp~=3.0", "4.0.0", false),
            ("fastapi~=0.92", "0.110.0", true),
            ("fastapi~=0.92", "1.0.0", false),
            ("cassandra-driver~=3.25", "3.24.0", false),
            // Exclusions and wildcards.
            ("redis>=2.6,!=4.0.0", "4.0.0", false),
            ("redis>=2.6,!=4.0.*", "4.0.7", false),
            ("redis>=2.6,!=4.0.*", "4.1.0", true),
            ("celery==5.*", "5.4.0", true),
            ("celery==5.*", "6.0.0", false),
            ("psutil>=5", "5.9.8", true),
            ("mysqlclient<3", "2.2.4", true),
            // Epochs and post releases.
            ("pika>=0.12.0", "1!0.1", true),
            ("pika<=1.0", "1.0.post1", false),
            // Where pep440_rs 0.7.3 differs from PEP 440 and packaging >= 26 (found by
            // tests/properties.rs against packaging).
            ("x<3.0.0a8", "3.0.0a7", true),
            ("x<3.0.0a8", "3.0.0a8", false),
            ("x<1.0.post1", "1.0a1", true),
            ("x<1.0.post1", "1.0.post0.dev0", true),
            ("x<1!0.1", "0.1.dev0", true),
            ("x<0b2", "0.0.dev0", true),
            ("x<2.1.0", "2.1.0.dev1", false),
            ("x>1a1.dev1", "1.post1", true),
            ("x>1a1.dev1", "1a1.dev1", false),
            ("x>1.dev0", "1.post0", true),
            ("x>1.0", "1.0.post1", false),
            ("x>1.0", "1.0+local", false),
            ("x>1.0.post1", "1.0.post2", true),
            ("x>1.0.post1", "1.0.post2.dev0", true),
            ("x>1.0.post1", "1.0.post1.dev9", false),
            ("x!=2.2.0.*", "2+1", true),
            ("x==2.2.*", "2", false),
            ("x==2.0.*", "2", true),
            ("x!=2.0.*", "2", false),
            ("x==1!2.*", "2.0", false),
        ];
        for (requirement, installed, expected) in cases {
            let parsed = PlainRequirement::parse(requirement).unwrap();
            assert_eq!(
                parsed.contains(&version(installed)),
                expected,
                "{installed} in {requirement}"
            );
        }
    }

    #[test]
    fn malformed_names_are_errors_not_panics() {
        for raw in [
            "foo. >= 1",
            "foo.",
            "-foo",
            "",
            "foo[bar.] >= 1",
            ".foo",
            "foo-",
            "f\u{e9}e>=1",
        ] {
            assert!(PlainRequirement::parse(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn deeply_nested_markers_never_reach_the_parser() {
        let nested = format!(
            "flask>=1; {}python_version > '3'{}",
            "(".repeat(20_000),
            ")".repeat(20_000)
        );
        assert!(matches!(
            PlainRequirement::parse(&nested),
            Err(RequirementError::Syntax { .. })
        ));
        assert_eq!(pep508_hazard("a; (python_version > '3')"), None);
    }

    #[test]
    fn refuses_urls_markers_and_extras() {
        assert!(matches!(
            PlainRequirement::parse("flask @ https://example.com/flask.whl"),
            Err(RequirementError::DirectReference(_))
        ));
        assert!(matches!(
            PlainRequirement::parse("flask>=1; python_version > '3'"),
            Err(RequirementError::Marker(_))
        ));
        assert!(matches!(
            PlainRequirement::parse("flask[async]>=1"),
            Err(RequirementError::Extras(_))
        ));
        assert!(matches!(
            PlainRequirement::parse("flask >= nonsense"),
            Err(RequirementError::Syntax { .. })
        ));
    }

    #[test]
    fn normalizes_like_pep_503() {
        assert_eq!(normalize("Zope.Interface"), "zope-interface");
        assert_eq!(normalize("tortoise__orm"), "tortoise-orm");
        assert_eq!(normalize("PyMySQL"), "pymysql");
        assert_eq!(parse_name("PyMySQL").unwrap().as_ref(), "pymysql");
        assert!(parse_name("foo.").is_none());
    }

    #[test]
    fn versions_parse_without_panicking() {
        assert!(parse_version("2.2.1ubuntu1").is_none());
        assert!(parse_version("UNKNOWN").is_none());
        assert_eq!(parse_version(" 1.0 ").unwrap(), version("1.0"));
    }
}

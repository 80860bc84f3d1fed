//! Which packages a registry source other than the bundled one may name.
//!
//! A release can come from files another process wrote: the target's own
//! `bootstrap_gen.py` (whatever installed the environment), the user registry, the index,
//! a `--registry` file or an overlay. What such a source names is installed by `-a
//! install`, so it may name only OpenTelemetry packages ([`allowed_name`]): an
//! `opentelemetry-instrumentation-*` package (the GenAI family
//! `opentelemetry-instrumentation-genai-*` included), `opentelemetry-util-genai`, or a
//! package the bundled registry already names (its core packages and instrumentations).
//! Anything else is dropped with a warning naming the source, unless the file itself says
//! it adds other packages (`"allow_other_names": true`, honoured only in a `--registry`
//! file or an overlay the user named), and then it is reported.

use std::collections::HashSet;
use std::sync::OnceLock;

use super::Release;
use crate::diagnostics::{Warning, WarningKind};
use crate::requirement::normalize;

/// The prefix of every instrumentation package of the OpenTelemetry project.
pub(crate) const INSTRUMENTATION_PREFIX: &str = "opentelemetry-instrumentation-";

/// OpenTelemetry packages a source may name that the bundled registry may not know yet.
const EXTRA_NAMES: &[&str] = &["opentelemetry-util-genai"];

/// At most this many refused names are listed in one warning.
const LISTED: usize = 5;

/// Whether a registry source other than the bundled one may name `name` (any spelling):
/// see the module documentation. The one rule; call it wherever such a name enters.
pub(crate) fn allowed_name(name: &str) -> bool {
    let name = normalize(name);
    name.starts_with(INSTRUMENTATION_PREFIX)
        || EXTRA_NAMES.contains(&name.as_str())
        || bundled_names().contains(&name)
}

/// Every package name (core and instrumentation) of every bundled release, normalized.
fn bundled_names() -> &'static HashSet<String> {
    static NAMES: OnceLock<HashSet<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        #[derive(serde::Deserialize)]
        struct Named {
            name: String,
        }
        #[derive(serde::Deserialize)]
        struct Document {
            #[serde(default)]
            core: Vec<Named>,
            #[serde(default)]
            instrumentations: Vec<Named>,
        }
        let mut names = HashSet::new();
        for (_, text) in super::BUNDLED_RELEASES {
            if let Ok(document) = serde_json::from_str::<Document>(text) {
                names.extend(
                    document
                        .core
                        .iter()
                        .chain(&document.instrumentations)
                        .map(|named| normalize(&named.name)),
                );
            }
        }
        names
    })
}

/// The names of `names` that [`allowed_name`] refuses, in order, without repeats.
pub(crate) fn refused<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut refused: Vec<String> = Vec::new();
    for name in names {
        if !allowed_name(name) && !refused.iter().any(|seen| seen == name) {
            refused.push(name.to_owned());
        }
    }
    refused
}

/// `release` from `source` (a path or URL, as the user would recognise it) with every
/// package [`allowed_name`] refuses dropped, and the warning saying so. When `honour_field`
/// and the release sets `allow_other_names`, nothing is dropped and the warning reports
/// the other packages instead.
pub(crate) fn screen(
    mut release: Release,
    source: &str,
    honour_field: bool,
) -> (Release, Option<Warning>) {
    let names = release
        .core
        .iter()
        .map(|package| package.name.as_ref())
        .chain(
            release
                .instrumentations
                .iter()
                .map(|instrumentation| instrumentation.name.as_ref()),
        );
    let outside = refused(names);
    if outside.is_empty() {
        return (release, None);
    }
    if honour_field && release.allow_other_names {
        return (release, Some(allowed_warning(source, &outside)));
    }
    release
        .core
        .retain(|package| allowed_name(package.name.as_ref()));
    release
        .instrumentations
        .retain(|instrumentation| allowed_name(instrumentation.name.as_ref()));
    (release, Some(refused_warning(source, &outside)))
}

/// The warning for names dropped from `source`.
pub(crate) fn refused_warning(source: &str, names: &[String]) -> Warning {
    Warning::new(
        WarningKind::Release,
        format!(
            "ignoring {} from `{}` that {} not OpenTelemetry: {} (a registry source other than the bundled one may name only `{INSTRUMENTATION_PREFIX}*` packages, `opentelemetry-util-genai` and packages the bundled registry knows; a `--registry` file or overlay that adds others says so with `\"allow_other_names\": true`)",
            plural(names.len()),
            crate::sanitize::sanitize(source),
            if names.len() == 1 { "is" } else { "are" },
            listing(names)
        ),
    )
}

/// The report for a source that adds other names on purpose.
pub(crate) fn allowed_warning(source: &str, names: &[String]) -> Warning {
    Warning::new(
        WarningKind::Release,
        format!(
            "`{}` adds {} that {} not OpenTelemetry (it sets `allow_other_names`): {}",
            crate::sanitize::sanitize(source),
            plural(names.len()),
            if names.len() == 1 { "is" } else { "are" },
            listing(names)
        ),
    )
}

fn plural(count: usize) -> String {
    if count == 1 {
        "1 package".to_owned()
    } else {
        format!("{count} packages")
    }
}

/// At most [`LISTED`] names, then how many more.
fn listing(names: &[String]) -> String {
    let mut text = names
        .iter()
        .take(LISTED)
        .map(|name| format!("`{}`", crate::sanitize::sanitize(name)))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > LISTED {
        text.push_str(&format!(" and {} more", names.len() - LISTED));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_opentelemetry_packages_are_allowed() {
        for name in [
            "opentelemetry-instrumentation-flask",
            "opentelemetry_instrumentation_genai_openai",
            "opentelemetry-instrumentation-genai-anything-new",
            "opentelemetry-util-genai",
            "opentelemetry-util-http",
            "OpenTelemetry-Distro",
            "opentelemetry-instrumentation",
        ] {
            assert!(allowed_name(name), "{name}");
        }
        for name in [
            "evil-package",
            "totally-not-malware",
            "opentelemetry-evil",
            "elastic-opentelemetry-instrumentation-openai",
        ] {
            assert!(!allowed_name(name), "{name}");
        }
        assert_eq!(
            refused(["evil", "opentelemetry-distro", "evil", "x"]),
            ["evil", "x"]
        );
    }
}

//! `otel-bootstrap registry list|show|update`.

use crate::error::{ExitStatus, Failure};
use crate::output::Format;
use crate::printer::{write_stdout, Printer, Verbosity};
use crate::registry::Kind;
use crate::requirement::parse_version;
use crate::settings::Registry as RegistryCommand;

use super::pipeline::load_registry;

pub(crate) fn run(command: RegistryCommand, printer: Printer) -> Result<ExitStatus, Failure> {
    let verbosity = printer.verbosity();
    match command {
        RegistryCommand::List { registry } => {
            let registry = load_registry(registry.as_deref())?;
            for warning in registry.warnings() {
                printer.warn(warning);
            }
            let mut text = String::new();
            for version in registry.versions().rev() {
                let release = registry.load(version)?;
                let counted = |kind| {
                    release
                        .instrumentations
                        .iter()
                        .filter(|entry| entry.kind == kind)
                        .count()
                };
                let unpublished = release
                    .instrumentations
                    .iter()
                    .filter(|entry| entry.kind != Kind::OptIn && !entry.published)
                    .count();
                let status = if unpublished > 0 {
                    format!("  partial: {unpublished} not published")
                } else {
                    String::new()
                };
                text.push_str(&format!(
                    "{:<10} {:>2} default, {:>2} library, {:>2} opt-in  {}{status}\n",
                    release.raw_version,
                    counted(Kind::Default),
                    counted(Kind::Library),
                    counted(Kind::OptIn),
                    registry.source_text(version),
                ));
            }
            write_stdout(text.as_bytes())?;
            Ok(ExitStatus::Success)
        }
        RegistryCommand::Show {
            release,
            registry,
            format,
        } => {
            let registry = load_registry(registry.as_deref())?;
            for warning in registry.warnings() {
                printer.warn(warning);
            }
            let version = match release {
                Some(text) => {
                    parse_version(&text).ok_or_else(|| registry.unknown_release(&text))?
                }
                None => registry
                    .versions()
                    .next_back()
                    .cloned()
                    .ok_or_else(|| anyhow::anyhow!("the registry is empty"))?,
            };
            let release = registry.load(&version)?;
            let text = match format {
                Format::Json => show_json(release)?,
                Format::Text => show_table(release),
            };
            write_stdout(text.as_bytes())?;
            Ok(ExitStatus::Success)
        }
        RegistryCommand::UpdateGenai {
            index_url,
            output,
            cache_dir,
        } => update_genai(index_url, output, cache_dir, printer),
        RegistryCommand::Update {
            index_url,
            output,
            release,
            from_release,
            cache_dir,
        } => {
            let index_url = update_index_url(index_url);
            let to_user_registry = output.is_none();
            let output_dir = match output.or_else(crate::registry::user::user_registry_dir) {
                Some(directory) => directory,
                None => {
                    return Err(Failure::with_hint(
                        anyhow::anyhow!(
                            "no user registry directory: neither `HOME` nor `{}` is set",
                            crate::registry::user::DIRECTORY_ENV
                        ),
                        "pass `--output DIR`, or set OTEL_BOOTSTRAP_REGISTRY_DIR",
                    ))
                }
            };
            let options = crate::registry::generate::GenerateOptions {
                index_url,
                output_dir: output_dir.clone(),
                minimum_release: from_release,
                cache_dir,
                progress: verbosity >= Verbosity::Normal,
                only_release: release,
            };
            let report = crate::registry::generate::generate(&options).map_err(|error| {
                Failure::with_hint(
                    error,
                    "nothing was written and the previous release files are intact; check the index URL (a proxy or captive portal may be answering in its place)",
                )
            })?;
            printer.say(&report.to_string());
            if to_user_registry {
                printer.say(&format!(
                    "in the user registry `{}`, read by every run",
                    output_dir.display()
                ));
            }
            Ok(ExitStatus::Success)
        }
    }
}

/// The index URL a registry update reads: `--index-url`, `$UV_INDEX_URL`,
/// `$PIP_INDEX_URL`, else PyPI.
fn update_index_url(index_url: Option<String>) -> String {
    index_url
        .or_else(|| {
            std::env::var("UV_INDEX_URL")
                .ok()
                .filter(|url| !url.is_empty())
        })
        .or_else(|| {
            std::env::var("PIP_INDEX_URL")
                .ok()
                .filter(|url| !url.is_empty())
        })
        .unwrap_or_else(|| crate::registry::generate::DEFAULT_INDEX_URL.to_owned())
}

/// `registry update-genai`: the GenAI family's `packages.json`, from the index.
fn update_genai(
    index_url: Option<String>,
    output: Option<std::path::PathBuf>,
    cache_dir: Option<std::path::PathBuf>,
    printer: Printer,
) -> Result<ExitStatus, Failure> {
    let index_url = update_index_url(index_url);
    let path = match output.or_else(|| {
        crate::registry::user::user_registry_dir()
            .map(|directory| crate::registry::genai::user_packages_path(&directory))
    }) {
        Some(path) => path,
        None => {
            return Err(Failure::with_hint(
                anyhow::anyhow!(
                    "no user registry directory: neither `HOME` nor `{}` is set",
                    crate::registry::user::DIRECTORY_ENV
                ),
                "pass `--output FILE`, or set OTEL_BOOTSTRAP_REGISTRY_DIR",
            ))
        }
    };
    let client = crate::index::IndexClient::new(&index_url)
        .map_err(anyhow::Error::from)?
        .with_cache_dir(cache_dir.or_else(crate::index::default_cache_dir));
    let registry = crate::registry::Registry::bundled();
    let releases: Vec<String> = registry.versions().map(ToString::to_string).collect();
    let family = crate::registry::genai::family_names();
    let text = crate::registry::genai_generate::generate_genai(&client, &family, &releases, None)
        .map_err(|error| {
            Failure::with_hint(
                error,
                "nothing was written; check the index URL (a proxy or captive portal may be answering in its place)",
            )
        })?;
    crate::registry::genai::GenAi::parse(
        &text,
        crate::registry::genai::bundled_choices(),
        "generated",
    )
    .map_err(|reason| {
        anyhow::anyhow!("internal: the generated document does not parse: {reason}")
    })?;
    crate::registry::genai_generate::write_document(&path, &text)?;
    printer.say(&format!(
        "wrote the GenAI family ({} packages) to `{}`",
        family.len(),
        path.display()
    ));
    Ok(ExitStatus::Success)
}

fn show_table(release: &crate::registry::Release) -> String {
    let mut text = format!(
        "release {}{}\n",
        release.raw_version,
        if release.is_partial() {
            " (partial)"
        } else {
            ""
        }
    );
    let width = release
        .instrumentations
        .iter()
        .map(|entry| entry.requirement.raw.len())
        .max()
        .unwrap_or(0);
    for entry in &release.instrumentations {
        let kind = match entry.kind {
            Kind::Default => "default",
            Kind::Library => "library",
            Kind::OptIn => "opt-in",
        };
        let mut libraries: Vec<String> = entry
            .instruments
            .iter()
            .map(|requirement| requirement.raw.clone())
            .collect();
        if !entry.instruments_any.is_empty() {
            let any: Vec<&str> = entry
                .instruments_any
                .iter()
                .map(|requirement| requirement.raw.as_str())
                .collect();
            libraries.push(format!("any of ({})", any.join(" | ")));
        }
        text.push_str(&format!(
            "{:<width$}  {:<7}  {:<13}  {}\n",
            entry.requirement.raw,
            kind,
            if entry.published {
                "published"
            } else {
                "not published"
            },
            libraries.join(" + ")
        ));
    }
    text
}

fn show_json(release: &crate::registry::Release) -> anyhow::Result<String> {
    let entries: Vec<serde_json::Value> = release
        .instrumentations
        .iter()
        .map(|entry| serde_json::to_value(entry.to_document()))
        .collect::<Result<_, _>>()?;
    let document = serde_json::json!({
        "release": release.raw_version,
        "partial": release.is_partial(),
        "instrumentations": entries,
    });
    Ok(serde_json::to_string_pretty(&document)? + "\n")
}

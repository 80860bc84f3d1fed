//! Where a project's tool keeps its environment, computed the way the tool computes it
//! (its documented defaults, configuration files and variables), then confirmed with the
//! tool itself when it is on `PATH` (`poetry env info -p`, `pipenv --venv`, `hatch env
//! find`).
//!
//! - uv: `$UV_PROJECT_ENVIRONMENT` (relative to the root) or `<root>/.venv`.
//! - Poetry: `<root>/.venv` when it exists or `virtualenvs.in-project` is true; else
//!   `virtualenvs.path` (default `<cache-dir>/virtualenvs`) holding
//!   `<name>-<hash>-py<X.Y>`, where `<hash>` is the first 8 characters of the URL-safe
//!   base64 of the SHA-256 of the project directory's real path and `X.Y` comes from
//!   `envs.toml` there (or the one such directory that exists). Settings come from
//!   `POETRY_*` variables, then `poetry.toml` in the project, then
//!   `<config-dir>/config.toml`; `virtualenvs.create = false` means Poetry uses whatever
//!   interpreter runs it, so the usual discovery applies.
//! - PDM: the interpreter named in `<root>/.pdm-python`, else `<root>/.venv`.
//! - pipenv: `<root>/.venv` when it exists or `PIPENV_VENV_IN_PROJECT` is set; else
//!   `$WORKON_HOME` (default `$XDG_DATA_HOME/virtualenvs`) holding
//!   `<directory name>-<hash>` (`PIPENV_CUSTOM_VENV_NAME` replaces the whole name), the
//!   hash being 8 characters of the URL-safe base64 of the first 6 bytes of the SHA-256 of
//!   the Pipfile's path.
//! - Hatch: `[tool.hatch.envs.default].path` when set, else
//!   `<data-dir>/env/virtual/<name>/<hash>/<name>` (`$HATCH_DATA_DIR`, default
//!   `$XDG_DATA_HOME/hatch`; the hash as Poetry's).
//! - pip-tools: no environment of its own; the nearest `.venv` from the root up.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Project, Tool};

/// Where the project's environment is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// It exists here.
    Found {
        prefix: PathBuf,
        /// How it was found, for `-v` (`poetry env info -p`, `virtualenvs.path`, ...).
        how: String,
    },
    /// It does not exist yet; where the tool would create it, when that is known.
    Missing { expected: Option<PathBuf> },
    /// The tool keeps no environment of its own here: the usual discovery applies.
    NotOwned,
}

/// The process's variables (a function so that tests pass their own).
pub(crate) type Variables<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// The location computed from files and variables alone (no tool is run).
pub(crate) fn locate(project: &Project, variable: Variables<'_>) -> Location {
    let set = |name: &str| variable(name).filter(|value| !value.is_empty());
    let in_project = project.root.join(".venv");
    match project.tool {
        Tool::Uv => {
            let prefix = match set("UV_PROJECT_ENVIRONMENT") {
                Some(value) => project.root.join(value),
                None => in_project,
            };
            at(prefix, "uv's project environment")
        }
        Tool::Pdm => {
            let recorded = crate::untrusted::read_text(
                &project.root.join(".pdm-python"),
                crate::untrusted::FileKind::Requirements,
            )
            .ok()
            .map(|text| PathBuf::from(text.trim()))
            .and_then(|interpreter| venv_of_interpreter(&interpreter));
            match recorded {
                Some(prefix) => at(prefix, "`.pdm-python`"),
                None => at(in_project, "PDM's in-project `.venv`"),
            }
        }
        Tool::Poetry => poetry(project, variable),
        Tool::Pipenv => pipenv(project, &set),
        Tool::Hatch => hatch(project, &set),
        Tool::PipTools => project
            .root
            .ancestors()
            .map(|directory| directory.join(".venv"))
            .find(|candidate| is_venv(candidate))
            .map_or(Location::NotOwned, |prefix| Location::Found {
                prefix,
                how: "the nearest `.venv`".to_owned(),
            }),
    }
}

/// The location the tool itself reports, when it is on `PATH` and answers with a path.
/// `None` when the tool is absent, fails, or has no such command.
pub(crate) fn ask_tool(
    project: &Project,
    path: Option<&std::ffi::OsStr>,
) -> Option<(PathBuf, String)> {
    let (program, args): (&str, &[&str]) = match project.tool {
        Tool::Poetry => ("poetry", &["env", "info", "--path", "--no-interaction"]),
        Tool::Pipenv => ("pipenv", &["--venv"]),
        Tool::Hatch => ("hatch", &["env", "find"]),
        Tool::Uv | Tool::Pdm | Tool::PipTools => return None,
    };
    let executable = crate::environment::find_on_path(&path?.to_os_string(), &[program])?;
    let mut command = Command::new(&executable);
    command
        .args(args)
        .current_dir(&project.root)
        .env_remove("VIRTUAL_ENV")
        .env("PIPENV_VERBOSITY", "-1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let text = run_bounded(command, Duration::from_secs(60))?;
    let line = text.lines().map(str::trim).rfind(|line| !line.is_empty())?;
    let prefix = PathBuf::from(line);
    prefix
        .is_absolute()
        .then(|| (prefix, format!("`{program} {}`", args.join(" "))))
}

/// The computed location, corrected by the tool's own answer when it gives one: an
/// existing environment it names wins; a path it names for an environment not created yet
/// becomes the expected one.
pub(crate) fn locate_and_confirm(
    project: &Project,
    variable: Variables<'_>,
    path: Option<&std::ffi::OsStr>,
) -> Location {
    let computed = locate(project, variable);
    if computed == Location::NotOwned {
        return computed;
    }
    match ask_tool(project, path) {
        Some((prefix, how)) if is_venv(&prefix) => Location::Found { prefix, how },
        Some((prefix, _)) if matches!(computed, Location::Missing { .. }) => Location::Missing {
            expected: Some(prefix),
        },
        _ => computed,
    }
}

fn at(prefix: PathBuf, how: &str) -> Location {
    if is_venv(&prefix) {
        Location::Found {
            prefix,
            how: how.to_owned(),
        }
    } else {
        Location::Missing {
            expected: Some(prefix),
        }
    }
}

fn is_venv(prefix: &Path) -> bool {
    prefix.join("pyvenv.cfg").is_file()
}

fn venv_of_interpreter(interpreter: &Path) -> Option<PathBuf> {
    interpreter
        .parent()
        .and_then(Path::parent)
        .filter(|prefix| is_venv(prefix))
        .map(Path::to_path_buf)
}

fn home(variable: Variables<'_>) -> Option<PathBuf> {
    variable("HOME")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
}

/// `$<xdg>` or `~/<fallback>`.
fn xdg(variable: Variables<'_>, name: &str, fallback: &str) -> Option<PathBuf> {
    variable(name)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .filter(|path| path.is_absolute())
        .or_else(|| home(variable).map(|home| home.join(fallback)))
}

fn truthy(value: &OsString) -> bool {
    matches!(
        value.to_string_lossy().trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

fn falsy(value: &OsString) -> bool {
    matches!(
        value.to_string_lossy().trim().to_ascii_lowercase().as_str(),
        "0" | "false" | "no" | "off"
    )
}

// ---------------------------------------------------------------------------------------
// Poetry
// ---------------------------------------------------------------------------------------

/// The settings that place a Poetry environment.
#[derive(Debug, Default)]
struct PoetrySettings {
    create: Option<bool>,
    in_project: Option<bool>,
    path: Option<String>,
    cache_dir: Option<String>,
}

impl PoetrySettings {
    /// Fills what is unset from a `config.toml` / `poetry.toml` document.
    fn fill_from(&mut self, file: &Path) {
        let Some(document) =
            crate::untrusted::read_text(file, crate::untrusted::FileKind::Pyproject)
                .ok()
                .and_then(|text| text.parse::<toml::Table>().ok())
        else {
            return;
        };
        let virtualenvs = document.get("virtualenvs");
        let boolean = |key: &str| virtualenvs?.get(key)?.as_bool();
        let text = |value: Option<&toml::Value>| value?.as_str().map(str::to_owned);
        self.create = self.create.or(boolean("create"));
        self.in_project = self.in_project.or(boolean("in-project"));
        self.path = self
            .path
            .take()
            .or_else(|| text(virtualenvs.and_then(|table| table.get("path"))));
        self.cache_dir = self
            .cache_dir
            .take()
            .or_else(|| text(document.get("cache-dir")));
    }
}

fn poetry_config_dir(variable: Variables<'_>) -> Option<PathBuf> {
    if let Some(directory) = variable("POETRY_CONFIG_DIR").filter(|value| !value.is_empty()) {
        return Some(PathBuf::from(directory));
    }
    if cfg!(target_os = "macos") {
        home(variable).map(|home| home.join("Library/Application Support/pypoetry"))
    } else {
        xdg(variable, "XDG_CONFIG_HOME", ".config").map(|directory| directory.join("pypoetry"))
    }
}

fn poetry_default_cache_dir(variable: Variables<'_>) -> Option<PathBuf> {
    if cfg!(target_os = "macos") {
        home(variable).map(|home| home.join("Library/Caches/pypoetry"))
    } else {
        xdg(variable, "XDG_CACHE_HOME", ".cache").map(|directory| directory.join("pypoetry"))
    }
}

fn poetry(project: &Project, variable: Variables<'_>) -> Location {
    let value = |name: &str| variable(name).filter(|value| !value.is_empty());
    let mut settings = PoetrySettings {
        create: value("POETRY_VIRTUALENVS_CREATE").map(|value| !falsy(&value)),
        in_project: value("POETRY_VIRTUALENVS_IN_PROJECT").map(|value| truthy(&value)),
        path: value("POETRY_VIRTUALENVS_PATH").map(|value| value.to_string_lossy().into_owned()),
        cache_dir: value("POETRY_CACHE_DIR").map(|value| value.to_string_lossy().into_owned()),
    };
    settings.fill_from(&project.root.join("poetry.toml"));
    if let Some(directory) = poetry_config_dir(variable) {
        settings.fill_from(&directory.join("config.toml"));
    }
    let in_project = project.root.join(".venv");
    if settings.in_project != Some(false) && is_venv(&in_project) {
        return Location::Found {
            prefix: in_project,
            how: "Poetry's in-project `.venv`".to_owned(),
        };
    }
    if settings.create == Some(false) {
        return Location::NotOwned;
    }
    if settings.in_project == Some(true) {
        return Location::Missing {
            expected: Some(in_project),
        };
    }
    let cache_dir = settings
        .cache_dir
        .map(PathBuf::from)
        .or_else(|| poetry_default_cache_dir(variable));
    let base = match (settings.path, &cache_dir) {
        (Some(path), Some(cache)) => {
            PathBuf::from(path.replace("{cache-dir}", &cache.to_string_lossy()))
        }
        (Some(path), None) => PathBuf::from(path),
        (None, Some(cache)) => cache.join("virtualenvs"),
        (None, None) => return Location::Missing { expected: None },
    };
    let name = poetry_env_name(project);
    let recorded_minor = crate::untrusted::read_text(
        &base.join("envs.toml"),
        crate::untrusted::FileKind::Pyproject,
    )
    .ok()
    .and_then(|text| text.parse::<toml::Table>().ok())
    .and_then(|document| {
        document
            .get(&name)?
            .get("minor")?
            .as_str()
            .map(str::to_owned)
    });
    if let Some(minor) = recorded_minor {
        let prefix = base.join(format!("{name}-py{minor}"));
        if is_venv(&prefix) {
            return Location::Found {
                prefix,
                how: "Poetry's `virtualenvs.path` (`envs.toml`)".to_owned(),
            };
        }
    }
    let prefix_of_name = format!("{name}-py");
    let mut candidates: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&base)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_str()
                .is_some_and(|file| file.starts_with(&prefix_of_name))
        })
        .map(|entry| entry.path())
        .filter(|prefix| is_venv(prefix))
        .map(|prefix| {
            let modified = std::fs::metadata(prefix.join("pyvenv.cfg"))
                .and_then(|metadata| metadata.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            (modified, prefix)
        })
        .collect();
    candidates.sort();
    match candidates.pop() {
        Some((_, prefix)) => Location::Found {
            prefix,
            how: "Poetry's `virtualenvs.path`".to_owned(),
        },
        None => Location::Missing {
            expected: Some(base.join(format!("{name}-py<X.Y>"))),
        },
    }
}

/// `<sanitized name>-<hash>`: the name lowercased, its unsafe characters replaced by `_`,
/// cut at 42 characters; the hash of the project directory's real path.
pub(crate) fn poetry_env_name(project: &Project) -> String {
    let name = project
        .name
        .as_deref()
        .map(crate::requirement::normalize)
        .unwrap_or_else(|| "non-package-mode".to_owned())
        .to_lowercase();
    let sanitized = sanitize(&name, " $`!*@\"\\\r\n\t");
    format!("{sanitized}-{}", path_hash(&project.root))
}

// ---------------------------------------------------------------------------------------
// pipenv
// ---------------------------------------------------------------------------------------

fn pipenv(project: &Project, set: &dyn Fn(&str) -> Option<OsString>) -> Location {
    let in_project = project.root.join(".venv");
    let in_project_setting = set("PIPENV_VENV_IN_PROJECT");
    if in_project_setting
        .as_ref()
        .is_none_or(|value| !falsy(value))
        && is_venv(&in_project)
    {
        return Location::Found {
            prefix: in_project,
            how: "pipenv's in-project `.venv`".to_owned(),
        };
    }
    if in_project_setting.as_ref().is_some_and(truthy) {
        return Location::Missing {
            expected: Some(in_project),
        };
    }
    let name = match set("PIPENV_CUSTOM_VENV_NAME") {
        Some(name) => name.to_string_lossy().into_owned(),
        None => pipenv_env_name(&project.root),
    };
    let base = set("WORKON_HOME")
        .map(PathBuf::from)
        .or_else(|| xdg(set, "XDG_DATA_HOME", ".local/share").map(|data| data.join("virtualenvs")));
    match base {
        Some(base) => at(base.join(name), "pipenv's `WORKON_HOME`"),
        None => Location::Missing { expected: None },
    }
}

/// `<directory name, sanitized>-<hash of the Pipfile's path>`.
pub(crate) fn pipenv_env_name(root: &Path) -> String {
    let directory = root
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let sanitized = sanitize(&directory, " &$`!*@\"()[]\\\r\n\t");
    let pipfile = root.join("Pipfile");
    let digest = sha256(pipfile.to_string_lossy().as_bytes());
    let hash: String = base64_url(&digest[..6]).chars().take(8).collect();
    format!("{sanitized}-{hash}")
}

// ---------------------------------------------------------------------------------------
// Hatch
// ---------------------------------------------------------------------------------------

fn hatch(project: &Project, set: &dyn Fn(&str) -> Option<OsString>) -> Location {
    let configured =
        crate::untrusted::read_text(&project.pyproject(), crate::untrusted::FileKind::Pyproject)
            .ok()
            .and_then(|text| text.parse::<toml::Table>().ok())
            .and_then(|document| {
                document
                    .get("tool")?
                    .get("hatch")?
                    .get("envs")?
                    .get("default")?
                    .get("path")?
                    .as_str()
                    .map(str::to_owned)
            });
    if let Some(path) = configured {
        return at(project.root.join(path), "`[tool.hatch.envs.default].path`");
    }
    let Some(data) = set("HATCH_DATA_DIR")
        .map(PathBuf::from)
        .or_else(|| xdg(set, "XDG_DATA_HOME", ".local/share").map(|data| data.join("hatch")))
    else {
        return Location::Missing { expected: None };
    };
    let Some(name) = project.name.as_deref().map(crate::requirement::normalize) else {
        return Location::Missing { expected: None };
    };
    let prefix = data
        .join("env")
        .join("virtual")
        .join(&name)
        .join(path_hash(&project.root))
        .join(&name);
    at(prefix, "Hatch's data directory")
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// `name` with each of `unsafe_characters` replaced by `_`, cut at 42 characters (the
/// rule of Poetry's and pipenv's environment names).
fn sanitize(name: &str, unsafe_characters: &str) -> String {
    name.chars()
        .map(|character| {
            if unsafe_characters.contains(character) {
                '_'
            } else {
                character
            }
        })
        .take(42)
        .collect()
}

/// 8 characters of the URL-safe base64 of the SHA-256 of the directory's real path (the
/// rule of Poetry's and Hatch's environment names).
fn path_hash(directory: &Path) -> String {
    let real = std::fs::canonicalize(directory).unwrap_or_else(|_| directory.to_path_buf());
    let digest = sha256(real.to_string_lossy().as_bytes());
    base64_url(&digest).chars().take(8).collect()
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

/// URL-safe base64 with padding, as Python's `base64.urlsafe_b64encode`.
fn base64_url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut text = String::new();
    for chunk in bytes.chunks(3) {
        let buffer = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let bits =
            (u32::from(buffer[0]) << 16) | (u32::from(buffer[1]) << 8) | u32::from(buffer[2]);
        for index in 0..4 {
            if index <= chunk.len() {
                text.push(char::from(
                    ALPHABET[((bits >> (18 - 6 * index)) & 63) as usize],
                ));
            } else {
                text.push('=');
            }
        }
    }
    text
}

/// Runs `command` (stdout piped), waiting at most `limit`; its stdout when it exits 0.
fn run_bounded(mut command: Command, limit: Duration) -> Option<String> {
    use std::io::Read as _;
    let mut child = command.spawn().ok()?;
    let mut stdout = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = (&mut stdout).take(1 << 20).read_to_end(&mut bytes);
        bytes
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < limit => {
                std::thread::sleep(Duration::from_millis(20));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    };
    let bytes = reader.join().ok()?;
    status
        .success()
        .then(|| String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::fs;

    fn project(root: &Path, tool: Tool, name: Option<&str>) -> Project {
        Project {
            tool,
            root: root.to_path_buf(),
            found_by: String::new(),
            name: name.map(str::to_owned),
            member: None,
        }
    }

    fn venv(prefix: &Path) {
        fs::create_dir_all(prefix).unwrap();
        fs::write(prefix.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
    }

    fn variables(pairs: &[(&str, &Path)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.as_os_str().to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn base64_matches_python() {
        // base64.urlsafe_b64encode(b"\xfb\xff\x00ab") == b"-_8AYWI="
        assert_eq!(base64_url(b"\xfb\xff\x00ab"), "-_8AYWI=");
        assert_eq!(base64_url(b"abc"), "YWJj");
    }

    #[test]
    fn poetry_environment_under_the_cache_with_its_name_rule() {
        let temporary = tempfile::tempdir().unwrap();
        let home = temporary.path().join("home");
        let root = temporary.path().join("app");
        fs::create_dir_all(&root).unwrap();
        let project = project(&root, Tool::Poetry, Some("My_App"));
        let name = poetry_env_name(&project);
        assert!(name.starts_with("my-app-"), "{name}");
        assert_eq!(name.len(), "my-app-".len() + 8);
        let vars = variables(&[("HOME", &home)]);
        let base = home.join(".cache/pypoetry/virtualenvs");
        assert_eq!(
            locate(&project, &vars),
            Location::Missing {
                expected: Some(base.join(format!("{name}-py<X.Y>")))
            }
        );
        venv(&base.join(format!("{name}-py3.11")));
        assert!(matches!(
            locate(&project, &vars),
            Location::Found { prefix, .. } if prefix.ends_with(format!("{name}-py3.11"))
        ));
        // In-project settings win; `create = false` hands over to the usual discovery.
        fs::write(
            root.join("poetry.toml"),
            "[virtualenvs]\nin-project = true\n",
        )
        .unwrap();
        assert_eq!(
            locate(&project, &vars),
            Location::Missing {
                expected: Some(root.join(".venv"))
            }
        );
        fs::write(root.join("poetry.toml"), "[virtualenvs]\ncreate = false\n").unwrap();
        assert_eq!(locate(&project, &vars), Location::NotOwned);
        let elsewhere = temporary.path().join("elsewhere");
        let vars = variables(&[("HOME", &home), ("POETRY_VIRTUALENVS_PATH", &elsewhere)]);
        fs::remove_file(root.join("poetry.toml")).unwrap();
        assert_eq!(
            locate(&project, &vars),
            Location::Missing {
                expected: Some(elsewhere.join(format!("{name}-py<X.Y>")))
            }
        );
    }

    #[test]
    fn pipenv_and_pdm_and_uv_locations() {
        let temporary = tempfile::tempdir().unwrap();
        let home = temporary.path().join("home");
        let root = temporary.path().join("web app");
        fs::create_dir_all(&root).unwrap();
        let vars = variables(&[("HOME", &home)]);
        let pipenv = project(&root, Tool::Pipenv, None);
        let name = pipenv_env_name(&root);
        assert!(name.starts_with("web_app-"), "{name}");
        assert_eq!(
            locate(&pipenv, &vars),
            Location::Missing {
                expected: Some(home.join(".local/share/virtualenvs").join(&name))
            }
        );
        let pdm = project(&root, Tool::Pdm, None);
        assert_eq!(
            locate(&pdm, &vars),
            Location::Missing {
                expected: Some(root.join(".venv"))
            }
        );
        venv(&root.join(".venv"));
        assert!(matches!(locate(&pipenv, &vars), Location::Found { .. }));
        assert!(matches!(locate(&pdm, &vars), Location::Found { .. }));
        let uv = project(&root, Tool::Uv, None);
        let vars = variables(&[
            ("HOME", &home),
            ("UV_PROJECT_ENVIRONMENT", Path::new("env")),
        ]);
        assert_eq!(
            locate(&uv, &vars),
            Location::Missing {
                expected: Some(root.join("env"))
            }
        );
        let tools = project(&root.join("sub"), Tool::PipTools, None);
        assert!(matches!(locate(&tools, &vars), Location::Found { .. }));
    }
}

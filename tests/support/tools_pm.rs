//! Real project managers for the end-to-end tests: Poetry, PDM, pipenv, Hatch and pip-tools, each
//! provisioned once with pip from the package index into its own venv
//! `<tools_dir>/<tool>-<version>` (built in a temporary directory and renamed into place
//! under a lock, as [`python::provision`] does), and run through small shims
//! (`exec <venv>/bin/python -m <module> "$@"`) in the test's scratch directory, so that
//! `otel-bootstrap` finds `poetry`, `pdm`, ... on `PATH` as a user's shell would.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::mirror::{path_without_uv, Stack};
use super::python;

/// A project manager the tests run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manager {
    Poetry,
    Pdm,
    Pipenv,
    Hatch,
    PipTools,
}

impl Manager {
    /// The distribution and version provisioned (the versions of the trial).
    pub fn pin(self) -> (&'static str, &'static str) {
        match self {
            Self::Poetry => ("poetry", "2.5.1"),
            Self::Pdm => ("pdm", "2.29.4"),
            Self::Pipenv => ("pipenv", "2026.10.3"),
            Self::Hatch => ("hatch", "1.18.2"),
            Self::PipTools => ("pip-tools", "7.7.0"),
        }
    }

    /// The commands it puts on PATH, and the `python -m` arguments behind each.
    fn commands(self) -> &'static [(&'static str, &'static [&'static str])] {
        match self {
            Self::Poetry => &[("poetry", &["-m", "poetry"])],
            Self::Pdm => &[("pdm", &["-m", "pdm"])],
            Self::Pipenv => &[("pipenv", &["-m", "pipenv"])],
            Self::Hatch => &[("hatch", &["-m", "hatch"])],
            Self::PipTools => &[
                ("pip-compile", &["-m", "piptools", "compile"]),
                ("pip-sync", &["-m", "piptools", "sync"]),
            ],
        }
    }
}

/// The tool's interpreter (`<tools_dir>/<tool>-<version>/bin/python`), provisioned on first
/// use. `None` (a failure under `CI=true`) when it cannot be.
#[track_caller]
pub fn interpreter(manager: Manager) -> Option<PathBuf> {
    let python3 = python::python3()?;
    let (name, version) = manager.pin();
    // hishel 2 breaks PDM 2.29.4 (`hishel.SyncSqliteStorage` is gone): keep it at 1.x.
    let (requirements, entry): (Vec<String>, String) = match manager {
        Manager::Pdm => (
            vec![format!("{name}=={version}"), "hishel<2".to_owned()],
            format!("{name}-{version}-hishel1"),
        ),
        _ => (
            vec![format!("{name}=={version}")],
            format!("{name}-{version}"),
        ),
    };
    let requirement = requirements.join(" ");
    let built = python::provision(&entry, |directory| {
        let venv = Command::new(&python3)
            .args(["-m", "venv"])
            .arg(directory)
            .output()
            .map_err(|error| error.to_string())?;
        if !venv.status.success() {
            return Err(String::from_utf8_lossy(&venv.stderr).into_owned());
        }
        python::install_tools(
            &directory.join("bin/python"),
            &requirements,
            &format!("uv pip install {requirement}"),
        )
    });
    match built {
        Ok(directory) => Some(directory.join("bin/python")),
        Err(error) => {
            python::skip_or_fail(&format!("cannot provision {name} {version}: {error}"));
            None
        }
    }
}

/// The managers' shims in `<scratch>/pm-bin` and the `PATH` a user of them has: the
/// shims, the base interpreter's directory (`python3` without a pyenv shim), then `PATH`
/// without uv.
pub struct Managers {
    pub bin: PathBuf,
    pub path: OsString,
}

impl Managers {
    /// Provisions `managers` and writes their shims. `None` when one cannot be had.
    #[track_caller]
    pub fn new(stack: &Stack, managers: &[Manager]) -> Option<Managers> {
        let bin = stack.path("pm-bin");
        fs::create_dir_all(&bin).unwrap();
        for manager in managers {
            let python = interpreter(*manager)?;
            for (command, module) in manager.commands() {
                let shim = bin.join(command);
                let words: Vec<String> = module.iter().map(|word| format!("'{word}'")).collect();
                fs::write(
                    &shim,
                    format!(
                        "#!/bin/sh\nexec '{}' {} \"$@\"\n",
                        python.display(),
                        words.join(" ")
                    ),
                )
                .unwrap();
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    fs::set_permissions(&shim, fs::Permissions::from_mode(0o755)).unwrap();
                }
            }
        }
        let base = python::python3()?;
        let mut directories = vec![bin.clone(), base.parent().unwrap().to_path_buf()];
        directories.extend(std::env::split_paths(&path_without_uv()));
        let path = std::env::join_paths(directories).unwrap();
        Some(Managers { bin, path })
    }

    /// `program args` in `cwd`, hermetic (the stack's variables, this `PATH`).
    pub fn command(&self, stack: &Stack, program: &str, cwd: &Path) -> Command {
        let mut command = stack.command(self.bin.join(program), cwd, &self.path);
        quiet_and_local(&mut command, stack);
        command
    }

    /// Runs `program args` in `cwd` and panics with its output unless it exits 0.
    #[track_caller]
    pub fn run(&self, stack: &Stack, program: &str, cwd: &Path, args: &[&str]) -> String {
        let mut command = self.command(stack, program, cwd);
        command.args(args);
        python::stdout(&python::run_ok(&mut command))
    }

    /// `otel-bootstrap <args>` in `cwd` with this `PATH` (nothing activated).
    pub fn ours(&self, stack: &Stack, cwd: &Path, args: &[&str]) -> std::process::Output {
        let mut command = stack.ours(cwd, &self.path);
        quiet_and_local(&mut command, stack);
        command.args(args);
        python::output(&mut command)
    }
}

/// Stderr with the scratch directory, timings and environment hashes made stable, for
/// snapshots.
pub fn stable(stack: &Stack, text: &str) -> String {
    let scratch = stack.dir.path().to_string_lossy().into_owned();
    let mut text = text.replace(&scratch, "[SCRATCH]");
    if let Ok(real) = fs::canonicalize(stack.dir.path()) {
        text = text.replace(&*real.to_string_lossy(), "[SCRATCH]");
    }
    let mut text = text.replace(&python::python_version(), "[X.Y]");
    // Poetry's `<name>-<hash>-py<X.Y>`: the hash is of the scratch directory's path.
    for marker in ["-py[X.Y]", "-py<X.Y>"] {
        let mut searched = 0;
        while let Some(found) = text[searched..].find(marker) {
            let end = searched + found;
            let start = end.saturating_sub(9);
            if end >= 9 && text.is_char_boundary(start) && text[start..].starts_with('-') {
                text.replace_range(start + 1..end, "[HASH]");
                searched = start + "-[HASH]".len() + marker.len();
            } else {
                searched = end + 1;
            }
        }
    }
    text.lines()
        .map(|line| {
            let mut line = line.to_owned();
            if let Some(start) = line.find(" in ") {
                if line.starts_with("Installed ") || line.starts_with("Done in ") {
                    let end = line[start..].find('s').map(|end| start + end + 1);
                    if let Some(end) = end {
                        line.replace_range(start..end, " in [TIME]");
                    }
                }
            }
            if line.starts_with("Done in ") {
                line = "Done in [TIME]".to_owned() + &line[line.find(':').unwrap_or(line.len())..];
            }
            line + "\n"
        })
        .collect()
}

/// The managers' variables: no prompt, no spinner, no update check, PDM on the loopback
/// index (Poetry and pipenv name it in the project's sources).
fn quiet_and_local(command: &mut Command, stack: &Stack) {
    command
        .env("POETRY_NO_INTERACTION", "1")
        .env("PIPENV_YES", "1")
        .env("PIPENV_NOSPIN", "1")
        .env("PIPENV_VERBOSITY", "-1")
        .env("PDM_CHECK_UPDATE", "false")
        .env("PDM_PYPI_URL", stack.index.url());
}

/// pip-tools 7.7.0's `pip-sync --python-executable` needs pip >= 26.2.2 in the target
/// environment, newer than the one `python3 -m venv` bundles: its wheel, downloaded once
/// into `<tools_dir>/pip-26.3-wheel` (the loopback mirror has no pip). `None` (a failure
/// under `CI=true`) when it cannot be.
#[track_caller]
pub fn pip_wheel_directory() -> Option<PathBuf> {
    let python3 = python::python3()?;
    let built = python::provision("pip-26.3-wheel", |directory| {
        let download = Command::new(&python3)
            .args(["-m", "pip", "download", "--quiet", "--no-deps"])
            .args(["--disable-pip-version-check", "--timeout", "60", "--dest"])
            .arg(directory)
            .arg("pip==26.3")
            .output()
            .map_err(|error| error.to_string())?;
        if download.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&download.stderr).into_owned())
        }
    });
    match built {
        Ok(directory) => Some(directory),
        Err(error) => {
            python::skip_or_fail(&format!("cannot download the pip 26.3 wheel: {error}"));
            None
        }
    }
}

//! Running the installer: its output captured (and streamed to stderr with `-v`, never to
//! our stdout), a spinner on a terminal, and what it said classified when it fails.

use std::io::{self, BufRead, BufReader, IsTerminal, Read, Write};
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::installer::InstallCommand;
use crate::redact::redact;

/// How the installer's output is shown while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Display {
    /// Nothing (captured; shown on failure).
    Silent,
    /// A spinner on stderr (a terminal), the output captured.
    Spinner,
    /// Every line copied to stderr as it comes (`-v`).
    Stream,
}

impl Display {
    /// `Spinner` when stderr is a terminal and nothing more or less was asked.
    pub(crate) fn choose(quiet: bool, verbose: bool) -> Self {
        if verbose {
            Self::Stream
        } else if quiet || !io::stderr().is_terminal() {
            Self::Silent
        } else {
            Self::Spinner
        }
    }
}

/// What the installer did.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) status: ExitStatus,
    /// Its stdout and stderr lines, interleaved as they arrived.
    pub(crate) lines: Vec<String>,
    pub(crate) elapsed: Duration,
}

/// The installer running now (its process id), for the signal handler; 0 when none.
static RUNNING_CHILD: AtomicU32 = AtomicU32::new(0);
/// The signal (SIGINT, SIGTERM or SIGHUP) that arrived while the installer ran; 0 when none.
static INTERRUPTED: AtomicI32 = AtomicI32::new(0);
/// When the first signal arrived (`CLOCK_MONOTONIC` seconds); 0 when none has.
static FIRST_SIGNAL_AT: AtomicI64 = AtomicI64::new(0);
/// Whether the installer's process group was killed (a second interrupt).
static FORCED: AtomicBool = AtomicBool::new(false);

/// After the first interrupt, how long a SIGTERM or SIGHUP waits before it may force the
/// installer: a job runner that sends SIGTERM twice in a row still gets a clean stop.
/// A second SIGINT (Ctrl-C again) forces at once.
pub(crate) const FORCE_GRACE_SECONDS: i64 = 5;

/// `CLOCK_MONOTONIC` in whole seconds (async-signal-safe), never 0.
#[cfg(unix)]
#[allow(clippy::useless_conversion)] // `time_t` is 32 bits on some targets
fn monotonic_seconds() -> i64 {
    // SAFETY: clock_gettime(2) is async-signal-safe and writes only into `now`.
    let mut now: libc::timespec = unsafe { std::mem::zeroed() };
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now);
    }
    i64::from(now.tv_sec).max(1)
}

/// Installs, once, handlers that pass an interrupt on to the running installer (as SIGINT,
/// which pip and uv both treat as "stop cleanly") instead of dying first: the installer
/// runs in its own process group, so it hears a signal only through us, once, and its own
/// cleanup decides the environment's state, never a half-finished us. A second SIGINT, or
/// a SIGTERM / SIGHUP more than [`FORCE_GRACE_SECONDS`] after the first signal, kills the
/// installer's whole process group (an installer that ignores interrupts cannot hold the
/// run). With no installer running (planning, or checking afterwards) the process ends at
/// once with 128 + the signal (130 for Ctrl-C, 143 for SIGTERM), as a shell expects.
#[cfg(unix)]
fn forward_interrupts() {
    extern "C" fn on_signal(signal: libc::c_int) {
        let child = RUNNING_CHILD.load(Ordering::SeqCst);
        let Ok(pid) = libc::pid_t::try_from(child) else {
            // SAFETY: _exit(2) is async-signal-safe.
            unsafe { libc::_exit(128 + signal) }
        };
        if pid <= 0 {
            // SAFETY: _exit(2) is async-signal-safe.
            unsafe { libc::_exit(128 + signal) }
        }
        let now = monotonic_seconds();
        let first = FIRST_SIGNAL_AT.load(Ordering::SeqCst);
        if first == 0 {
            INTERRUPTED.store(signal, Ordering::SeqCst);
            FIRST_SIGNAL_AT.store(now, Ordering::SeqCst);
            // SAFETY: kill(2) is async-signal-safe; the pid is the installer we spawned.
            unsafe {
                libc::kill(pid, libc::SIGINT);
            }
            return;
        }
        let force = signal == libc::SIGINT || now - first >= FORCE_GRACE_SECONDS;
        if force {
            FORCED.store(true, Ordering::SeqCst);
            // SAFETY: kill(2) is async-signal-safe; the installer leads its own process
            // group (`process_group(0)`), so `-pid` is that group and nothing else.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            // SAFETY: a zeroed sigaction with a handler that only touches atomics and
            // calls async-signal-safe functions.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(signal, &action, std::ptr::null_mut());
            }
        }
    });
}

#[cfg(not(unix))]
fn forward_interrupts() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let _ = ctrlc::set_handler(|| {
            INTERRUPTED.store(2, Ordering::SeqCst);
            if RUNNING_CHILD.load(Ordering::SeqCst) == 0 {
                std::process::exit(130);
            }
        });
    });
}

/// The signal that interrupted the last installer run, if one did.
pub(crate) fn interrupted() -> Option<i32> {
    match INTERRUPTED.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// Whether a second interrupt killed the installer's process group.
pub(crate) fn forced() -> bool {
    FORCED.load(Ordering::SeqCst)
}

/// Runs `command`; `Err` only when it cannot be started.
pub(crate) fn run(
    command: &InstallCommand,
    display: Display,
    packages: usize,
) -> io::Result<Outcome> {
    let started = Instant::now();
    let spinner = (display == Display::Spinner).then(|| {
        let spinner = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {wide_msg} {elapsed:.dim}") {
            spinner.set_style(style);
        }
        spinner.set_message(format!(
            "Resolving {packages} package{}",
            if packages == 1 { "" } else { "s" }
        ));
        spinner.enable_steady_tick(Duration::from_millis(80));
        spinner
    });

    forward_interrupts();
    let mut process = command.command();
    process
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut process, 0);
    // If we are killed outright (SIGKILL, which no handler sees), the installer in its own
    // process group would run on unwatched: Linux tells it, as an interrupt.
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl(2) and getppid(2) are async-signal-safe; nothing is allocated.
        let parent = unsafe { libc::getpid() };
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut process, move || {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT);
                if libc::getppid() != parent {
                    libc::_exit(130);
                }
                Ok(())
            });
        }
    }
    let mut child = process.spawn()?;
    RUNNING_CHILD.store(child.id(), Ordering::SeqCst);
    let lines = Arc::new(Mutex::new(Vec::new()));
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|out| Box::new(out) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|err| Box::new(err) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|stream| {
        let lines = Arc::clone(&lines);
        let spinner = spinner.clone();
        thread::spawn(move || forward(stream, &lines, display, spinner.as_ref()))
    })
    .collect();
    let status = child.wait();
    RUNNING_CHILD.store(0, Ordering::SeqCst);
    let status = status?;
    for reader in readers {
        let _ = reader.join();
    }
    if let Some(spinner) = spinner {
        spinner.finish_and_clear();
    }
    let lines = match Arc::try_unwrap(lines) {
        Ok(lines) => lines
            .into_inner()
            .unwrap_or_else(|poison| poison.into_inner()),
        Err(shared) => shared
            .lock()
            .map(|lines| lines.clone())
            .unwrap_or_else(|poison| poison.into_inner().clone()),
    };
    Ok(Outcome {
        status,
        lines,
        elapsed: started.elapsed(),
    })
}

fn forward(
    stream: impl Read,
    lines: &Mutex<Vec<String>>,
    display: Display,
    spinner: Option<&ProgressBar>,
) {
    let mut reader = BufReader::new(stream);
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        match reader.read_until(b'\n', &mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&buffer);
        // Progress bars redraw with `\r`: keep the last state of the line.
        let line = text
            .trim_end_matches(['\n', '\r'])
            .rsplit('\r')
            .next()
            .unwrap_or_default()
            .to_owned();
        if display == Display::Stream {
            let mut stderr = io::stderr().lock();
            let _ = writeln!(stderr, "{}", redact(&line));
        }
        if let Some(spinner) = spinner {
            if let Some(message) = phase(&line) {
                spinner.set_message(message);
            }
        }
        if let Ok(mut lines) = lines.lock() {
            lines.push(line);
        }
    }
}

/// A spinner message for a line of installer output that marks a new phase.
fn phase(line: &str) -> Option<String> {
    let line = line.trim();
    if let Some(names) = line.strip_prefix("Installing collected packages:") {
        // pip lists every name on one line: the count fits a terminal line, the list does not.
        let count = names
            .split(',')
            .filter(|name| !name.trim().is_empty())
            .count();
        return Some(format!(
            "Installing {count} distribution{}",
            if count == 1 { "" } else { "s" }
        ));
    }
    if line.starts_with("Resolved ") || line.starts_with("Prepared ") {
        return Some("Installing".to_owned());
    }
    if let Some(name) = line
        .strip_prefix("Collecting ")
        .or_else(|| line.strip_prefix("Downloading "))
    {
        return Some(format!("Resolving: {}", name.trim()));
    }
    None
}

/// Why the installer failed, from what it printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureKind {
    /// PEP 668: the interpreter is externally managed.
    ExternallyManaged,
    /// The index could not be reached.
    Network,
    /// The requirements cannot be satisfied from the index (a package or version is not
    /// there, or the requirements conflict).
    Unsatisfiable,
    /// The disk (or the user's quota) is full.
    DiskFull,
    /// Anything else.
    Other,
}

/// Classifies a failure and picks the one line that says why.
pub(crate) fn diagnose(lines: &[String]) -> (FailureKind, Option<String>) {
    let find = |needles: &[&str]| -> Option<String> {
        lines
            .iter()
            .find(|line| {
                let lower = line.to_ascii_lowercase();
                needles.iter().any(|needle| lower.contains(needle))
            })
            .map(|line| clean(line))
    };
    if lines.iter().any(|line| {
        let lower = line.to_ascii_lowercase();
        lower.contains("externally-managed-environment") || lower.contains("externally managed")
    }) {
        return (
            FailureKind::ExternallyManaged,
            externally_managed_reason(lines),
        );
    }
    if let Some(line) = find(&["no space left on device", "disk quota exceeded"]) {
        return (FailureKind::DiskFull, Some(line));
    }
    let network = find(&[
        "connection refused",
        "failed to establish a new connection",
        "newconnectionerror",
        "max retries exceeded",
        "tcp connect error",
        "dns error",
        "error sending request",
        "failed to fetch",
        "could not connect",
        "name or service not known",
        "temporary failure in name resolution",
        "timed out",
    ]);
    if let Some(line) = network {
        return (FailureKind::Network, Some(line));
    }
    let unsatisfiable = find(&[
        "no matching distribution found",
        "was not found in the package registry",
        "was not found in the provided package locations",
        "because there is no version of",
        "because there are no versions of",
        "requirements are unsatisfiable",
        "resolutionimpossible",
        "conflicting dependencies",
        "no solution found",
    ]);
    if let Some(line) = unsatisfiable {
        // uv states the reason on a line after "No solution found"; prefer that one.
        let reason = find(&[
            "because ",
            "no matching distribution found",
            "conflicting dependencies",
        ])
        .unwrap_or(line);
        return (FailureKind::Unsatisfiable, Some(reason));
    }
    let last_error = lines
        .iter()
        .rev()
        .find(|line| {
            let trimmed = line.trim_start();
            trimmed.starts_with("ERROR:") || trimmed.starts_with("error:")
        })
        .map(|line| clean(line));
    (FailureKind::Other, last_error)
}

/// The distributor's message from an `EXTERNALLY-MANAGED` file, as the installer quotes
/// it: the paragraph after the line saying the environment is externally managed (pip:
/// `× This environment is externally managed` / `╰─> …`; uv: `… is externally managed,
/// and indicates the following:`).
fn externally_managed_reason(lines: &[String]) -> Option<String> {
    let marker = lines.iter().rposition(|line| {
        let lower = line.to_ascii_lowercase();
        lower.contains("externally managed") || lower.contains("externally-managed")
    })?;
    let paragraph: Vec<String> = lines[marker + 1..]
        .iter()
        .skip_while(|line| line.trim().is_empty())
        .take_while(|line| !line.trim().is_empty())
        .map(|line| clean(line))
        .filter(|line| !line.is_empty())
        .collect();
    if paragraph.is_empty() {
        Some(clean(&lines[marker]))
    } else {
        Some(paragraph.join(" "))
    }
}

/// A line without the installer's prefixes and decorations.
fn clean(line: &str) -> String {
    let mut text = line.trim();
    for prefix in ["ERROR:", "error:", "×", "╰─▶", "╰─>", "│", "Caused by:"] {
        text = text.strip_prefix(prefix).unwrap_or(text).trim();
    }
    redact(text).into_owned()
}

/// What the installer itself said about conflicts it left (pip's "dependency resolver does
/// not currently take into account all the packages that are installed" block, uv's
/// `warning: The package … requires …`), redacted: shown at normal verbosity.
pub(crate) fn resolver_warnings(lines: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    let mut in_pip_block = false;
    for line in lines {
        let trimmed = line.trim();
        if trimmed.starts_with("ERROR: pip's dependency resolver") {
            in_pip_block = true;
            found.push(redact(trimmed).into_owned());
            continue;
        }
        let pip_conflict = in_pip_block
            && (trimmed.contains(" requires ") || trimmed.contains("which is incompatible"));
        let uv_conflict = trimmed.starts_with("warning:") && trimmed.contains(" requires ");
        if pip_conflict || uv_conflict {
            found.push(redact(trimmed).into_owned());
        } else {
            in_pip_block = false;
        }
    }
    found
}

/// The packages the installer reports having installed (`pkg==1.0`), in its words.
#[cfg(test)]
pub(crate) fn installed_packages(lines: &[String]) -> Vec<String> {
    let mut packages = Vec::new();
    for line in lines {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("Successfully installed ") {
            // pip writes `name-version`; names may hold `-`, versions never do.
            packages.extend(
                rest.split_whitespace()
                    .map(|item| match item.rsplit_once('-') {
                        Some((name, version)) => format!("{name}=={version}"),
                        None => item.to_owned(),
                    }),
            );
        } else if let Some(rest) = trimmed.strip_prefix("+ ") {
            packages.push(rest.trim().to_owned());
        }
    }
    packages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phase_is_one_short_line() {
        let names: Vec<String> = (0..40).map(|index| format!("package-{index}")).collect();
        let line = format!("Installing collected packages: {}", names.join(", "));
        assert_eq!(phase(&line).as_deref(), Some("Installing 40 distributions"));
        assert_eq!(
            phase("Installing collected packages: flask").as_deref(),
            Some("Installing 1 distribution")
        );
        assert_eq!(
            phase("Resolved 12 packages in 3ms").as_deref(),
            Some("Installing")
        );
        assert_eq!(phase("Requirement already satisfied: x"), None);
    }

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn classifies_pip_and_uv_failures() {
        let pip_missing = lines("ERROR: Could not find a version that satisfies the requirement opentelemetry-instrumentation-flask==0.66b1 (from versions: none)\nERROR: No matching distribution found for opentelemetry-instrumentation-flask==0.66b1");
        assert_eq!(
            diagnose(&pip_missing),
            (
                FailureKind::Unsatisfiable,
                Some(
                    "No matching distribution found for opentelemetry-instrumentation-flask==0.66b1"
                        .to_owned()
                )
            )
        );
        let uv_missing = lines("  × No solution found when resolving dependencies:\n  ╰─▶ Because opentelemetry-instrumentation-flask was not found in the package registry and you require opentelemetry-instrumentation-flask==0.66b1, we can conclude that your requirements are unsatisfiable.");
        let (kind, reason) = diagnose(&uv_missing);
        assert_eq!(kind, FailureKind::Unsatisfiable);
        assert!(reason
            .unwrap()
            .starts_with("Because opentelemetry-instrumentation-flask"));
        let pep668 = lines("error: externally-managed-environment\n\n× This environment is externally managed\n╰─> Use apt,\n    really.\n\nnote: override with --break-system-packages.");
        assert_eq!(
            diagnose(&pep668),
            (
                FailureKind::ExternallyManaged,
                Some("Use apt, really.".to_owned())
            )
        );
        let uv_pep668 = lines("error: The interpreter at /usr is externally managed, and indicates the following:\n\n  Use apt.\n\nConsider creating a virtual environment with `uv venv`.");
        assert_eq!(
            diagnose(&uv_pep668),
            (FailureKind::ExternallyManaged, Some("Use apt.".to_owned()))
        );
        let network = lines("error: Failed to fetch: `http://user:pw@127.0.0.1:9/simple/x/`\n  Caused by: tcp connect error: Connection refused (os error 111)");
        let (kind, reason) = diagnose(&network);
        assert_eq!(kind, FailureKind::Network);
        assert_eq!(
            reason.unwrap(),
            "Failed to fetch: `http://user:****@127.0.0.1:9/simple/x/`"
        );
    }

    #[test]
    fn a_full_disk_says_so() {
        let pip = lines("ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device");
        assert_eq!(diagnose(&pip).0, FailureKind::DiskFull);
        let uv = lines("error: Failed to install: x-1.0-py3-none-any.whl\n  Caused by: failed to write to file `/v/lib/x.py`: No space left on device (os error 28)");
        assert_eq!(diagnose(&uv).0, FailureKind::DiskFull);
    }

    #[test]
    fn keeps_the_installers_own_conflict_warnings() {
        let pip = lines("Installing collected packages: a\nERROR: pip's dependency resolver does not currently take into account all the packages that are installed. This behaviour is the source of the following dependency conflicts.\nb 1.0 requires a==2, but you have a 1.0 which is incompatible.\nSuccessfully installed a-1.0");
        assert_eq!(resolver_warnings(&pip).len(), 2);
        let uv = lines("Installed 1 package in 3ms\nwarning: The package `b==1.0` requires `a==2`, but `1.0` is installed");
        assert_eq!(resolver_warnings(&uv).len(), 1);
        assert!(resolver_warnings(&lines("Successfully installed a-1.0")).is_empty());
    }

    #[test]
    fn lists_what_was_installed() {
        let pip = lines("Successfully installed a-b-1.0 c-2.0b1");
        assert_eq!(installed_packages(&pip), ["a-b==1.0", "c==2.0b1"]);
        let uv = lines("Installed 2 packages in 3ms\n + a==1.0\n + b==2.0\n - c==0.1");
        assert_eq!(installed_packages(&uv), ["a==1.0", "b==2.0"]);
    }
}

//! Hostile input, through the binary: site-packages that no installer would write, package
//! indexes that fail in every way, credentials that must not leak, and signals. The cases
//! `tests/cli.rs` and `tests/lockfile.rs` already cover (missing `METADATA`, symlink loops,
//! dangling links, unknown flags, include cycles, undecodable lockfiles, a closed stdout)
//! are not repeated here.
//!
//! The rule for every site-packages case: a warning naming the path, the good
//! distributions still matched, exit 0, and no hang (each run has a deadline).
#![cfg(unix)]

use crate::support;

use std::fs;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::python::{command, dist_info_stem, fake_dist, stderr, stdout};

const FLASK_LINE: &str = "opentelemetry-instrumentation-flask==0.66b1";

/// Runs `cmd`, killing it after `limit`: a hang is a failure, not a stuck test.
fn run_within(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout_pipe = child.stdout.take().unwrap();
    let mut stderr_pipe = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = stdout_pipe.read_to_end(&mut buffer);
        buffer
    });
    let err_reader = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = stderr_pipe.read_to_end(&mut buffer);
        buffer
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {limit:?} (a hang)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    }
}

fn no_panic(output: &Output) {
    let message = stderr(output);
    assert!(
        !message.contains("panicked") && !message.contains("RUST_BACKTRACE"),
        "{message}"
    );
}

fn scan(site_packages: &Path, limit: Duration) -> Output {
    let output = run_within(
        command(site_packages)
            .arg("--site-packages")
            .arg(site_packages),
        limit,
    );
    no_panic(&output);
    output
}

fn has_line(output: &Output, line: &str) -> bool {
    stdout(output).lines().any(|candidate| candidate == line)
}

fn dist_info(site_packages: &Path, folder: &str) -> PathBuf {
    let dir = site_packages.join(format!("{folder}.dist-info"));
    fs::create_dir_all(&dir).unwrap();
    dir
}

// ---------------------------------------------------------------------------------------
// site-packages
// ---------------------------------------------------------------------------------------

#[test]
fn hostile_metadata_files_are_warnings_and_the_good_dists_still_match() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site-packages");
    fs::create_dir_all(&site).unwrap();
    fake_dist(&site, "opentelemetry-instrumentation", "0.66b1");
    fake_dist(&site, "flask", "3.0.0");

    // Binary garbage: no header at all.
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    fs::write(
        dist_info(&site, "requests-2.31.0").join("METADATA"),
        garbage,
    )
    .unwrap();
    // Latin-1 in another field, CRLF line ends: still read.
    fs::write(
        dist_info(&site, "redis-5.0.4").join("METADATA"),
        b"Metadata-Version: 2.1\r\nName: redis\r\nAuthor: J\xf6rg M\xfcller\r\nVersion: 5.0.4\r\n\r\n",
    )
    .unwrap();
    // No Name / no Version.
    fs::write(
        dist_info(&site, "httpx-0.27.0").join("METADATA"),
        "Metadata-Version: 2.1\nVersion: 0.27.0\n\n",
    )
    .unwrap();
    fs::write(
        dist_info(&site, "jinja2-3.1.4").join("METADATA"),
        "Metadata-Version: 2.1\nName: jinja2\n\n",
    )
    .unwrap();
    // METADATA is a directory.
    fs::create_dir_all(dist_info(&site, "pymongo-4.6.0").join("METADATA")).unwrap();
    // METADATA is a FIFO nobody writes to: opening it for reading would block forever.
    let fifo = dist_info(&site, "psycopg2-2.9.9").join("METADATA");
    let made = Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|status| status.success()), "mkfifo");
    // METADATA is an endless device.
    std::os::unix::fs::symlink("/dev/zero", dist_info(&site, "pika-1.3.2").join("METADATA"))
        .unwrap();
    // A 20 MB METADATA with its header first (only the header may be read) ...
    let mut big = b"Metadata-Version: 2.1\nName: aiohttp\nVersion: 3.9.5\n\n".to_vec();
    big.resize(20 * 1024 * 1024, b'x');
    fs::write(dist_info(&site, "aiohttp-3.9.5").join("METADATA"), &big).unwrap();
    // ... and a 20 MB one that is one line with no header end.
    let line = vec![b'N'; 20 * 1024 * 1024];
    fs::write(dist_info(&site, "celery-5.4.0").join("METADATA"), line).unwrap();
    // Non-ASCII and non-UTF-8 folder names.
    let accented = site.join("fl\u{e5}sk-1.0.dist-info");
    fs::create_dir_all(&accented).unwrap();
    fs::write(
        accented.join("METADATA"),
        "Name: fl\u{e5}sk\nVersion: 1.0\n\n",
    )
    .unwrap();
    let raw = site.join(std::ffi::OsStr::from_bytes(b"tornado\xff-6.4.dist-info"));
    fs::create_dir_all(&raw).unwrap();
    fs::write(raw.join("METADATA"), "Name: tornado\nVersion: 6.4\n\n").unwrap();

    // The bound only catches a hang; speed is the benchmarks' business.
    let output = scan(&site, Duration::from_secs(20));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let message = stderr(&output);
    for line in [
        FLASK_LINE,
        "opentelemetry-instrumentation-redis==0.66b1",
        "opentelemetry-instrumentation-aiohttp-client==0.66b1",
    ] {
        assert!(has_line(&output, line), "{line}: {}", stdout(&output));
    }
    for folder in [
        "requests-2.31.0.dist-info",
        "httpx-0.27.0.dist-info",
        "jinja2-3.1.4.dist-info",
        "pymongo-4.6.0.dist-info",
        "psycopg2-2.9.9.dist-info",
        "pika-1.3.2.dist-info",
        "celery-5.4.0.dist-info",
    ] {
        assert!(message.contains(folder), "{folder}: {message}");
    }
    for line in [
        "opentelemetry-instrumentation-requests==0.66b1",
        "opentelemetry-instrumentation-httpx==0.66b1",
        "opentelemetry-instrumentation-jinja2==0.66b1",
        "opentelemetry-instrumentation-pymongo==0.66b1",
        "opentelemetry-instrumentation-psycopg2==0.66b1",
        "opentelemetry-instrumentation-pika==0.66b1",
        "opentelemetry-instrumentation-celery==0.66b1",
    ] {
        assert!(!has_line(&output, line), "{line}: {}", stdout(&output));
    }
}

#[test]
fn fifty_thousand_distributions() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site-packages");
    fs::create_dir_all(&site).unwrap();
    fake_dist(&site, "opentelemetry-instrumentation", "0.66b1");
    fake_dist(&site, "flask", "3.0.0");
    for index in 0..50_000 {
        let folder = site.join(format!(
            "{}-1.0.dist-info",
            dist_info_stem(&format!("pkg-{index}"))
        ));
        fs::create_dir(&folder).unwrap();
        fs::write(
            folder.join("METADATA"),
            format!("Name: pkg-{index}\nVersion: 1.0\n\n"),
        )
        .unwrap();
    }
    // The bound only catches a hang; how fast this is belongs to bench/compare.sh.
    let output = scan(&site, Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(has_line(&output, FLASK_LINE), "{}", stdout(&output));
}

/// As a non-root user (root ignores permissions, so the test drops to `nobody` with
/// `setpriv` when it runs as root).
#[test]
fn an_unreadable_dist_info_as_a_non_root_user() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let site = dir.path().join("site-packages");
    fs::create_dir_all(&site).unwrap();
    fake_dist(&site, "opentelemetry-instrumentation", "0.66b1");
    fake_dist(&site, "flask", "3.0.0");
    let locked = fake_dist(&site, "requests", "2.31.0");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    let is_root = fs::read_dir(&locked).is_ok();
    let mut cmd = if is_root {
        let setpriv = Path::new("/usr/bin/setpriv");
        if !setpriv.exists() {
            eprintln!("note: root without setpriv; the unreadable case is not observable");
            return;
        }
        // The binary must be reachable by `nobody`.
        let binary = dir.path().join("otel-bootstrap");
        fs::copy(support::python::bin(), &binary).unwrap();
        fs::set_permissions(&binary, fs::Permissions::from_mode(0o755)).unwrap();
        let mut cmd = Command::new(setpriv);
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(&binary)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", dir.path())
            .current_dir(dir.path());
        cmd
    } else {
        command(dir.path())
    };
    let output = run_within(
        cmd.arg("--site-packages").arg(&site),
        Duration::from_secs(20),
    );
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();
    no_panic(&output);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(has_line(&output, FLASK_LINE), "{}", stdout(&output));
    assert!(
        stderr(&output).contains("requests-2.31.0.dist-info"),
        "{}",
        stderr(&output)
    );
}

// ---------------------------------------------------------------------------------------
// Paths and flags
// ---------------------------------------------------------------------------------------

#[test]
fn interpreters_that_are_not_python() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage-python");
    fs::write(&garbage, "#!/bin/sh\necho 'not json at all'\n").unwrap();
    let failing = dir.path().join("failing-python");
    fs::write(&failing, "#!/bin/sh\necho boom >&2\nexit 3\n").unwrap();
    let text = dir.path().join("text-file");
    fs::write(&text, "hello\n").unwrap();
    let dash = dir.path().join("-python");
    fs::write(&dash, "#!/bin/sh\nexit 1\n").unwrap();
    for path in [&garbage, &failing, &dash] {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }
    for python in [
        garbage.as_path(),
        failing.as_path(),
        text.as_path(),
        dash.as_path(),
        Path::new("/dev/null"),
        Path::new("/nonexistent/python3"),
    ] {
        let output = run_within(
            command(dir.path()).arg("--python").arg(python),
            Duration::from_secs(40),
        );
        no_panic(&output);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{python:?}: {}",
            stderr(&output)
        );
        assert!(output.stdout.is_empty(), "{python:?}");
        assert!(
            stderr(&output).contains(&*python.to_string_lossy()),
            "{python:?}: {}",
            stderr(&output)
        );
    }
    // A site-packages that is a file, or missing.
    for site in [text.as_path(), Path::new("/nonexistent/site-packages")] {
        let output = run_within(
            command(dir.path()).arg("--site-packages").arg(site),
            Duration::from_secs(20),
        );
        no_panic(&output);
        assert_ne!(output.status.code(), Some(101), "{site:?}");
        assert!(
            stderr(&output).contains(&*site.to_string_lossy()),
            "{site:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn unknown_subcommands_and_conflicts_exit_2_with_usage() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["registry", "frobnicate"],
        vec!["registry", "show", "--format", "yaml"],
        vec!["--format", "xml"],
        vec!["--action", "uninstall"],
        vec!["--site-packages"],
    ] {
        let output = run_within(command(dir.path()).args(&args), Duration::from_secs(20));
        no_panic(&output);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(
            stderr(&output).starts_with("error:"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn closed_stdout_mid_document_is_a_clean_exit() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["registry", "show", "--format", "json"],
        vec!["registry", "list"],
    ] {
        let mut child = command(dir.path())
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read one line, then close the pipe: `otel-bootstrap … | head -1`.
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        reader.read_line(&mut first).unwrap();
        drop(reader);
        let output = child.wait_with_output().unwrap();
        no_panic(&output);
        assert!(
            matches!(output.status.code(), Some(0)),
            "{args:?}: {:?} {}",
            output.status,
            stderr(&output)
        );
    }
}

// ---------------------------------------------------------------------------------------
// Registries and lockfiles
// ---------------------------------------------------------------------------------------

#[test]
fn lockfiles_may_not_smuggle_urls_paths_or_index_options() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str); 4] = [
        ("requirements.txt", "--index-url https://user:secret@evil.example/simple/\nflask==3.0.0\nopentelemetry-instrumentation==0.66b1\n"),
        ("requirements.txt", "flask @ https://evil.example/flask-3.0.0.whl\nopentelemetry-instrumentation==0.66b1\n"),
        ("requirements.txt", "./vendor/flask\nopentelemetry-instrumentation==0.66b1\n"),
        ("requirements.txt", "foo. >= 1\n"),
    ];
    for (index, (name, text)) in cases.iter().enumerate() {
        let case = dir.path().join(format!("case-{index}"));
        fs::create_dir_all(&case).unwrap();
        let file = case.join(name);
        fs::write(&file, text).unwrap();
        let output = run_within(
            command(&case).arg("--from").arg(&file).args([
                "--python-version",
                "3.11",
                "--platform",
                "linux",
            ]),
            Duration::from_secs(20),
        );
        no_panic(&output);
        let all = format!("{}{}", stdout(&output), stderr(&output));
        assert!(!all.contains("secret"), "case {index}: {all}");
        // Whatever the outcome, nothing it prints points at the URL or path.
        assert!(
            !stdout(&output).contains("evil.example") && !stdout(&output).contains("vendor"),
            "case {index}: {all}"
        );
        assert!(
            !has_line(&output, FLASK_LINE) || index == 0,
            "case {index}: a URL or path reference counted as installed flask: {all}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Network: registry update against a loopback server
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Mode {
    Status(u16),
    /// Accepts and reads the request, then never answers.
    Silent,
    /// Every path redirects to itself.
    RedirectLoop,
    /// Project pages list a wheel; the wheel's body is cut short of its Content-Length.
    TruncatedWheel,
}

struct Server {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(mode: Mode) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = stop.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            if stopping.load(Ordering::SeqCst) {
                break;
            }
            let Ok(stream) = stream else { continue };
            let stopping = stopping.clone();
            std::thread::spawn(move || handle(stream, mode, &stopping));
        }
    });
    Server { port, stop }
}

fn handle(mut stream: TcpStream, mode: Mode, stopping: &AtomicBool) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
            break;
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let response: Vec<u8> = match mode {
        Mode::Status(code) => {
            format!("HTTP/1.1 {code} Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").into()
        }
        Mode::Silent => {
            let start = Instant::now();
            while !stopping.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(60) {
                std::thread::sleep(Duration::from_millis(50));
            }
            return;
        }
        Mode::RedirectLoop => format!(
            "HTTP/1.1 302 Found\r\nLocation: {path}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .into(),
        Mode::TruncatedWheel if path.starts_with("/files/") => {
            let mut response = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n".to_vec();
            response.extend_from_slice(b"PK\x03\x04 this is not the whole wheel");
            response
        }
        Mode::TruncatedWheel => {
            let body = "<html><body>\
                <a href=\"/files/opentelemetry_instrumentation-0.66b1-py3-none-any.whl\">opentelemetry_instrumentation-0.66b1-py3-none-any.whl</a>\
                </body></html>";
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .into()
        }
    };
    let _ = stream.write_all(&response);
    let _ = stream.flush();
}

/// `registry update` against `index_url`; asserts the failure is clean and writes nothing.
fn update_fails(index_url: &str, limit: Duration) -> String {
    let dir = tempfile::tempdir().unwrap();
    let output_dir = dir.path().join("registry");
    let output = run_within(
        command(dir.path())
            .args(["registry", "update", "--index-url", index_url, "--output"])
            .arg(&output_dir)
            .env("OTEL_BOOTSTRAP_HTTP_TIMEOUT", "1")
            .env("XDG_CACHE_HOME", dir.path().join("cache")),
        limit,
    );
    no_panic(&output);
    let message = stderr(&output);
    assert!(
        matches!(output.status.code(), Some(1 | 2)),
        "{index_url}: {:?} {message}",
        output.status
    );
    let written = fs::read_dir(&output_dir)
        .map(|entries| entries.count())
        .unwrap_or(0);
    assert_eq!(written, 0, "{index_url}: files written after a failure");
    message
}

#[test]
fn index_faults_are_clean_errors_that_write_nothing() {
    for (mode, what) in [
        (Mode::Status(404), "404"),
        (Mode::Status(500), "500"),
        (Mode::RedirectLoop, "redirect"),
        (Mode::TruncatedWheel, "truncated"),
    ] {
        let server = serve(mode);
        let url = format!("http://127.0.0.1:{}/simple/", server.port);
        let message = update_fails(&url, Duration::from_secs(60));
        assert!(message.contains("127.0.0.1"), "{what}: {message}");
    }
}

#[test]
fn a_silent_index_times_out() {
    let server = serve(Mode::Silent);
    let url = format!("http://127.0.0.1:{}/simple/", server.port);
    // Three tries of one second each, plus backoff; the bound only catches a hang.
    let message = update_fails(&url, Duration::from_secs(30));
    assert!(message.contains("127.0.0.1"), "{message}");
}

#[test]
fn credentials_in_index_urls_are_never_printed() {
    // Refused connection (port 1), and a live server answering 500.
    let server = serve(Mode::Status(500));
    for url in [
        "http://user:secret@127.0.0.1:1/simple/".to_owned(),
        format!("http://user:secret@127.0.0.1:{}/simple/", server.port),
        format!("http://secret@127.0.0.1:{}/simple/", server.port),
    ] {
        let message = update_fails(&url, Duration::from_secs(60));
        assert!(!message.contains("secret"), "{url}: {message}");
        assert!(message.contains("127.0.0.1"), "{url}: {message}");
    }
    // The same URLs from the environment.
    for variable in ["PIP_INDEX_URL", "UV_INDEX_URL"] {
        let dir = tempfile::tempdir().unwrap();
        let output = run_within(
            command(dir.path())
                .args(["registry", "update", "--output"])
                .arg(dir.path().join("out"))
                .env(variable, "http://user:secret@127.0.0.1:1/simple/")
                .env("OTEL_BOOTSTRAP_HTTP_TIMEOUT", "1"),
            Duration::from_secs(60),
        );
        no_panic(&output);
        let all = format!("{}{}", stdout(&output), stderr(&output));
        assert_ne!(output.status.code(), Some(0), "{variable}: {all}");
        assert!(!all.contains("secret"), "{variable}: {all}");
    }
}

// ---------------------------------------------------------------------------------------
// Signals
// ---------------------------------------------------------------------------------------

/// Ctrl-C during an install: the terminal sends SIGINT to the whole foreground process
/// group, so the installer gets it too. Here the signal goes to the process group of our
/// binary (as a terminal would); we must exit non-zero promptly, after the installer.
#[test]
fn ctrl_c_during_an_install_stops_both() {
    interrupt_an_install(SignalTarget::ProcessGroup, "INT");
}

/// `kill -INT <our pid>` (a CI runner, a supervisor): only we get the signal, and we pass
/// it on to the installer, wait for it, and exit 130.
#[test]
fn an_interrupt_sent_to_us_alone_reaches_the_installer() {
    interrupt_an_install(SignalTarget::OurProcess, "INT");
}

/// `kill <our pid>` (SIGTERM, what a job runner sends first): the same, exit 143.
#[test]
fn a_termination_sent_to_us_reaches_the_installer() {
    interrupt_an_install(SignalTarget::OurProcess, "TERM");
}

/// `kill -KILL <our pid>` (a job runner's last word): no handler runs, so the installer,
/// in its own process group, hears it from the kernel (Linux's parent-death signal).
#[cfg(target_os = "linux")]
#[test]
fn a_kill_of_us_still_stops_the_installer() {
    interrupt_an_install(SignalTarget::OurProcess, "KILL");
}

enum SignalTarget {
    ProcessGroup,
    OurProcess,
}

fn interrupt_an_install(target: SignalTarget, signal: &str) {
    let (_dir, mut child, marker) = start_installer(
        "trap 'echo interrupted >> \"$log\"; exit 130' INT\n\
         i=0; while [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\n",
    );
    let pid = child.id();
    let destination = match target {
        SignalTarget::ProcessGroup => format!("-{pid}"),
        SignalTarget::OurProcess => pid.to_string(),
    };
    let killed = Command::new("kill")
        .args([&format!("-{signal}"), "--", &destination])
        .status()
        .unwrap();
    assert!(killed.success());
    let interrupted = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        assert!(
            interrupted.elapsed() < Duration::from_secs(10),
            "still running 10 s after Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    no_panic(&output);
    assert!(!output.status.success(), "{}", stderr(&output));
    let expected = match signal {
        "INT" => Some(130),
        "TERM" => Some(143),
        _ => None,
    };
    if expected.is_some() {
        assert_eq!(output.status.code(), expected, "{}", stderr(&output));
    }
    // Killed outright, we could not wait for the installer: it stops on its own.
    let stopped = Instant::now();
    while !fs::read_to_string(&marker).is_ok_and(|text| text.contains("interrupted")) {
        assert!(
            stopped.elapsed() < Duration::from_secs(10),
            "the installer still runs 10 s after we ended"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = fs::read_to_string(&marker).unwrap();
    assert!(
        log.contains("interrupted"),
        "{log}\n{:?} after {:?}\n{}",
        output.status,
        interrupted.elapsed(),
        stderr(&output)
    );
    assert!(!log.contains("finished"), "{log}");
}

/// An installer that ignores SIGINT: a second Ctrl-C kills its process group, and we
/// say so and exit 130 (issue #20).
#[test]
fn a_second_interrupt_kills_an_installer_that_ignores_the_first() {
    let (_dir, mut child, log) =
        start_installer("trap '' INT\ni=0; while [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done\n");
    signal(child.id(), "INT");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the first interrupt only asks"
    );
    signal(child.id(), "INT");
    let output = wait_within(child, Duration::from_secs(20));
    no_panic(&output);
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("a second interrupt killed it and its process group"),
        "{}",
        stderr(&output)
    );
    assert!(!fs::read_to_string(&log).unwrap().contains("finished"));
}

/// An installer that ignores the interrupt and finishes: the run says so, checks the
/// environment as usual and exits by what it finds (never 130 "as it left it").
#[test]
fn an_installer_that_finishes_after_an_interrupt_is_checked_as_usual() {
    let (_dir, child, _log) = start_installer("trap '' INT\nsleep 2\n");
    signal(child.id(), "INT");
    let output = wait_within(child, Duration::from_secs(30));
    no_panic(&output);
    let message = stderr(&output);
    assert!(matches!(output.status.code(), Some(0 | 1)), "{message}");
    assert!(
        message.contains("finished (it ignored the request to stop)"),
        "{message}"
    );
    assert!(!message.contains("as it left it"), "{message}");
}

/// SIGTERM twice in a row (a job runner) still asks only; a SIGTERM after the grace
/// period kills the installer's process group, and we exit 143 saying so.
#[test]
fn a_late_termination_kills_an_installer_that_ignores_the_first() {
    let (_dir, mut child, log) =
        start_installer("trap '' INT\ni=0; while [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done\n");
    signal(child.id(), "TERM");
    signal(child.id(), "TERM");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "within the grace period: asked only"
    );
    std::thread::sleep(Duration::from_secs(6));
    signal(child.id(), "TERM");
    let output = wait_within(child, Duration::from_secs(20));
    no_panic(&output);
    assert_eq!(output.status.code(), Some(143), "{}", stderr(&output));
    assert!(stderr(&output).contains("killed it"), "{}", stderr(&output));
    assert!(!fs::read_to_string(&log).unwrap().contains("finished"));
}

fn signal(pid: u32, name: &str) {
    let sent = Command::new("kill")
        .args([&format!("-{name}"), "--", &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Waits for `child`; a run past `limit` is a hang.
fn wait_within(mut child: std::process::Child, limit: Duration) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("still running {limit:?} after the signal");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// `-a install` into a fake venv whose installer (`uv` and `pip`) runs `body` (which may
/// append to `"$log"`) after logging `started`; returns once it has started.
fn start_installer(body: &str) -> (tempfile::TempDir, std::process::Child, PathBuf) {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("venv");
    let site = root.join("lib/python3.11/site-packages");
    fs::create_dir_all(&site).unwrap();
    fs::write(
        root.join("pyvenv.cfg"),
        "home = /nonexistent/bin\ninclude-system-site-packages = false\nversion = 3.11.7\n",
    )
    .unwrap();
    fake_dist(&site, "opentelemetry-instrumentation", "0.66b1");
    fake_dist(&site, "flask", "3.0.0");
    let bin = dir.path().join("bin");
    fs::create_dir_all(&bin).unwrap();
    let log = dir.path().join("installer.log");
    let script = format!(
        "#!/bin/sh\nlog='{}'\necho started >> \"$log\"\n{body}echo finished >> \"$log\"\n",
        log.display()
    );
    for name in ["uv", "pip"] {
        let path = bin.join(name);
        fs::write(&path, &script).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }
    fs::create_dir_all(root.join("bin")).unwrap();
    let python = root.join("bin/python");
    fs::write(&python, "#!/bin/sh\nexit 1\n").unwrap();
    fs::set_permissions(&python, fs::Permissions::from_mode(0o755)).unwrap();
    let mut cmd = command(dir.path());
    {
        use std::os::unix::process::CommandExt as _;
        cmd.process_group(0);
    }
    let mut child = cmd
        .args(["-a", "install", "--python"])
        .arg(&root)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !fs::read_to_string(&log).is_ok_and(|text| text.contains("started")) {
        if child.try_wait().unwrap().is_some() {
            let output = child.wait_with_output().unwrap();
            panic!("exited before starting the installer: {}", stderr(&output));
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the fake installer never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (dir, child, log)
}

// ---------------------------------------------------------------------------------------
// Fuzz regressions
// ---------------------------------------------------------------------------------------

/// Replays `tests/data/fuzz-regressions/<target>/*` through the fuzz entry points (the
/// inputs that once crashed a parser, kept so that they never do again).
#[test]
fn fuzz_regressions_replay() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz-regressions");
    type Target = (&'static str, fn(&[u8]));
    let targets: [Target; 9] = [
        ("metadata", otel_bootstrap::fuzzing::metadata),
        ("folder_name", otel_bootstrap::fuzzing::folder_name),
        ("requirement", otel_bootstrap::fuzzing::requirement),
        ("registry", otel_bootstrap::fuzzing::registry),
        ("requirements", otel_bootstrap::fuzzing::requirements),
        ("uv_lock", otel_bootstrap::fuzzing::uv_lock),
        ("pylock", otel_bootstrap::fuzzing::pylock),
        ("poetry_lock", otel_bootstrap::fuzzing::poetry_lock),
        ("bootstrap_gen", otel_bootstrap::fuzzing::bootstrap_gen),
    ];
    // The parsers run pep508_rs behind catch_unwind, so a panic would not fail the call:
    // count panics with a hook instead (the binary would print them to the user).
    static PANICS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {
        PANICS.fetch_add(1, Ordering::SeqCst);
    }));
    let mut replayed = 0;
    let mut panicked = Vec::new();
    for (target, run) in targets {
        let Ok(entries) = fs::read_dir(root.join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let bytes = fs::read(&path).unwrap();
            let before = PANICS.load(Ordering::SeqCst);
            let outcome = std::panic::catch_unwind(|| run(&bytes));
            if outcome.is_err() || PANICS.load(Ordering::SeqCst) != before {
                panicked.push(path.display().to_string());
            }
            replayed += 1;
        }
    }
    std::panic::set_hook(previous);
    assert!(panicked.is_empty(), "these inputs panic: {panicked:?}");
    assert!(
        replayed > 0,
        "no regression inputs under {}",
        root.display()
    );
}

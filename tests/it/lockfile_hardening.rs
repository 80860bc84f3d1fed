//! Hostile lock and requirements files (issue #15): includes that point at secrets,
//! devices, FIFOs or URLs; credentials in every kind of line; endless and huge files (with
//! a memory ceiling measured on the child); 100,000-package locks. Every run has a
//! generous time limit that fails only on a hang; nothing asserts a duration.

use crate::support;

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::python::{command, stderr, stdout};

/// A secret that must never appear in any output.
const SECRET: &str = "s3cr3t-T0KEN-value";

/// The most a run reading a hostile file may use, in KiB (peak RSS of the child).
/// Reading is capped at 16 MiB for a requirements file and 64 MiB for a lock file.
const RSS_CEILING_KIB: i64 = 128 * 1024;

/// Runs `cmd` for its own peak RSS (`support::memory`); past `limit` it is a hang.
fn run_measured(cmd: &mut Command, limit: Duration) -> support::memory::Measured {
    support::memory::run_measured(cmd, limit)
}

/// Our binary in `cwd` with markers from the flags, a secret in its environment.
fn ours(cwd: &Path, args: &[&str]) -> Command {
    let mut cmd = command(cwd);
    cmd.env("OTEL_TEST_SECRET", SECRET)
        .args(["--python-version", "3.12", "--platform", "linux"])
        .args(args);
    cmd
}

fn run(cwd: &Path, args: &[&str]) -> Output {
    run_measured(&mut ours(cwd, args), Duration::from_secs(60)).output
}

/// Everything the run printed.
fn all(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(output)
    )
}

/// Exit 2 (or `code`), no panic, no secret, and stderr holding every needle.
#[track_caller]
fn fails(output: &Output, needles: &[&str]) {
    let text = stderr(output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    no_leak(output);
    for needle in needles {
        assert!(text.contains(needle), "`{needle}` not in:\n{text}");
    }
    assert!(text.contains("hint:"), "no hint in:\n{text}");
}

#[track_caller]
fn no_leak(output: &Output) {
    let text = all(output);
    assert!(!text.contains("panicked"), "{text}");
    assert!(!text.contains(SECRET), "the secret leaked:\n{text}");
}

/// A project directory holding `requirements.txt` with `text`.
fn project(text: &str) -> tempfile::TempDir {
    let directory = tempfile::tempdir().unwrap();
    fs::write(directory.path().join("requirements.txt"), text).unwrap();
    directory
}

// ---------------------------------------------------------------------------------------
// Includes: secrets, system files, special files, outside the project
// ---------------------------------------------------------------------------------------

#[test]
fn includes_of_proc_and_dev_files_are_refused_naming_the_line() {
    for (line, target) in [
        ("-r /proc/self/environ", "/proc/self/environ"),
        ("-c /proc/self/environ", "/proc/self/environ"),
        ("-r /dev/stdin", "/dev/stdin"),
        ("--requirement=/dev/zero", "/dev/zero"),
    ] {
        let directory = project(&format!("flask==3.0.0\n{line}\n"));
        let output = run(directory.path(), &["--from", "requirements.txt"]);
        fails(
            &output,
            &["requirements.txt` line 2", target, "system file"],
        );
    }
}

#[test]
fn a_fifo_include_or_file_is_refused_without_blocking() {
    let directory = project("flask==3.0.0\n-r pipe.txt\n");
    let fifo = directory.path().join("pipe.txt");
    let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
    let output = run(directory.path(), &["--from", "requirements.txt"]);
    fails(&output, &["requirements.txt` line 2", "FIFO"]);
    let output = run(directory.path(), &["--from", "pipe.txt"]);
    fails(&output, &["pipe.txt", "FIFO"]);
}

#[test]
fn includes_may_not_leave_the_project() {
    let outside = tempfile::tempdir().unwrap();
    fs::write(
        outside.path().join("netrc"),
        format!("machine example.com login me password {SECRET}\n"),
    )
    .unwrap();
    let root = outside.path().join("project");
    fs::create_dir_all(&root).unwrap();
    for include in ["-r ../netrc", "-r ../../../../../../../../etc/passwd"] {
        fs::write(
            root.join("requirements.txt"),
            format!("flask==3.0.0\n{include}\n"),
        )
        .unwrap();
        let output = run(&root, &["--from", "requirements.txt"]);
        fails(
            &output,
            &["requirements.txt` line 2", "outside the project directory"],
        );
        assert!(!all(&output).contains("root:"), "{}", all(&output));
    }
    // A symbolic link inside the project that points outside is outside too.
    std::os::unix::fs::symlink(outside.path().join("netrc"), root.join("link.txt")).unwrap();
    fs::write(root.join("requirements.txt"), "-r link.txt\n").unwrap();
    let output = run(&root, &["--from", "requirements.txt"]);
    fails(&output, &["outside the project directory"]);
}

#[test]
fn a_secret_file_inside_the_project_shows_only_line_numbers_and_kinds() {
    let directory = project("flask==3.0.0\n-r .env\n");
    fs::write(
        directory.path().join(".env"),
        format!("# the deploy secrets\nAPI_TOKEN={SECRET}\n"),
    )
    .unwrap();
    let output = run(directory.path(), &["--from", "requirements.txt"]);
    fails(&output, &[".env` line 2", "not a valid"]);
    assert!(!all(&output).contains("API_TOKEN"), "{}", all(&output));
    // /etc/passwd-like content in a file of the project: warnings name lines, not content.
    fs::write(
        directory.path().join(".env"),
        format!("root:x:0:0:{SECRET}:/root:/bin/bash\n-{SECRET}\n"),
    )
    .unwrap();
    let output = run(directory.path(), &["--from", "requirements.txt"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    no_leak(&output);
    let text = stderr(&output);
    assert!(text.contains(".env:1:"), "{text}");
    assert!(text.contains(".env:2:"), "{text}");
    assert!(!text.contains("root:x"), "{text}");
}

#[test]
fn includes_inside_the_project_still_work_from_a_subdirectory() {
    let directory = tempfile::tempdir().unwrap();
    let service = directory.path().join("services/api");
    fs::create_dir_all(&service).unwrap();
    fs::create_dir_all(directory.path().join("common")).unwrap();
    fs::write(directory.path().join("common/base.txt"), "flask==3.0.0\n").unwrap();
    fs::write(
        service.join("requirements.txt"),
        "-r ../../common/base.txt\n",
    )
    .unwrap();
    let output = run(
        directory.path(),
        &["--from", "services/api/requirements.txt"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("opentelemetry-instrumentation-flask=="),
        "{}",
        stdout(&output)
    );
}

// ---------------------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------------------

#[test]
fn url_includes_are_refused_with_their_credentials_redacted() {
    for line in [
        format!("-r https://user:{SECRET}@host.example/r.txt"),
        format!("-c https://user:{SECRET}@host.example/c.txt"),
        format!("--requirement=https://user:{SECRET}@host.example/r.txt"),
        format!("--constraint https://{SECRET}@host.example/c.txt"),
        format!("-rhttps://{SECRET}@host.example/r.txt"),
    ] {
        let directory = project(&format!("flask==3.0.0\n{line}\n"));
        // A file named like the URL's path must not be read instead.
        fs::create_dir_all(directory.path().join("https:")).unwrap();
        for extra in [&[][..], &["--format", "json"][..], &["--check"][..]] {
            let mut args = vec!["--from", "requirements.txt"];
            args.extend_from_slice(extra);
            let output = run(directory.path(), &args);
            fails(
                &output,
                &[
                    "requirements.txt` line 2",
                    "URL include",
                    "****@host.example",
                ],
            );
        }
    }
}

#[test]
fn credentials_in_requirement_lines_are_never_printed() {
    let cases = [
        // Malformed: an error naming the line.
        (
            format!("foo @ https://u:{SECRET}@h.example/x.whl ; python_version >>> \"3\"\n"),
            2,
        ),
        // A bare URL: a warning naming the line.
        (format!("https://u:{SECRET}@h.example/x.whl#egg=foo\n"), 0),
        // An editable VCS URL.
        (
            format!("-e git+https://{SECRET}@h.example/x.git#egg=x\n"),
            0,
        ),
        // A direct reference.
        (
            format!("flask @ https://u:{SECRET}@h.example/flask-3.0.0-py3-none-any.whl\n"),
            0,
        ),
        // An index option.
        (
            format!("--extra-index-url https://u:{SECRET}@h.example/simple\nflask==3.0.0\n"),
            0,
        ),
    ];
    for (text, code) in cases {
        let directory = project(&text);
        for extra in [
            &[][..],
            &["--format", "json"][..],
            &["--check"][..],
            &["-v"][..],
        ] {
            let mut args = vec!["--from", "requirements.txt"];
            args.extend_from_slice(extra);
            let output = run(directory.path(), &args);
            no_leak(&output);
            let expected = if code == 0 && extra == ["--check"] {
                // A check of a plan with missing instrumentations finds a problem.
                output.status.code()
            } else {
                Some(code)
            };
            assert_eq!(output.status.code(), expected, "{text}: {}", all(&output));
            if code == 2 {
                assert!(
                    stderr(&output).contains("requirements.txt` line 1"),
                    "{}",
                    stderr(&output)
                );
            }
        }
    }
}

#[test]
fn uv_lock_markers_holding_urls_are_redacted() {
    let directory = tempfile::tempdir().unwrap();
    fs::write(
        directory.path().join("uv.lock"),
        format!(
            "version = 1\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = {{ virtual = \".\" }}\ndependencies = [\n    {{ name = \"flask\", marker = \"os_name === 'https://u:{SECRET}@h.example/'\" }},\n]\n\n[[package]]\nname = \"flask\"\nversion = \"3.0.0\"\n"
        ),
    )
    .unwrap();
    for extra in [&[][..], &["--format", "json"][..], &["--check"][..]] {
        let mut args = vec!["--from", "uv.lock"];
        args.extend_from_slice(extra);
        let output = run(directory.path(), &args);
        fails(&output, &["uv.lock` line 8", "****@h.example"]);
    }
}

// ---------------------------------------------------------------------------------------
// Memory and size
// ---------------------------------------------------------------------------------------

#[test]
fn endless_and_huge_files_stay_under_the_memory_ceiling() {
    let directory = project("flask==3.0.0\n-r /dev/zero\n");
    // A sparse 8 GiB regular file: reading it whole would need 8 GiB.
    let huge = directory.path().join("huge.txt");
    fs::File::create(&huge)
        .unwrap()
        .set_len(8 * 1024 * 1024 * 1024)
        .unwrap();
    fs::write(directory.path().join("includes-huge.txt"), "-r huge.txt\n").unwrap();
    let huge_lock = directory.path().join("uv.lock");
    fs::File::create(&huge_lock)
        .unwrap()
        .set_len(8 * 1024 * 1024 * 1024)
        .unwrap();
    for (args, needle) in [
        (&["--from", "requirements.txt"][..], "/dev/zero"),
        (&["--from", "/dev/zero"][..], "/dev/zero"),
        (&["--from", "huge.txt"][..], "larger than 16 MiB"),
        (&["--from", "includes-huge.txt"][..], "larger than 16 MiB"),
        (&["--from", "uv.lock"][..], "larger than 64 MiB"),
    ] {
        let measured = run_measured(&mut ours(directory.path(), args), Duration::from_secs(120));
        fails(&measured.output, &[needle]);
        assert!(
            measured.max_rss_kib < RSS_CEILING_KIB,
            "{args:?}: peak RSS {} KiB over the {RSS_CEILING_KIB} KiB ceiling",
            measured.max_rss_kib
        );
    }
}

// ---------------------------------------------------------------------------------------
// Linear parsers
// ---------------------------------------------------------------------------------------

/// A uv.lock whose root depends on `count` packages, each depending on its neighbours.
fn big_uv_lock(count: usize) -> String {
    let mut text = String::from("version = 1\nrevision = 2\nrequires-python = \">=3.9\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = { virtual = \".\" }\ndependencies = [\n    { name = \"flask\" },\n    { name = \"pkg-0\" },\n]\n\n[[package]]\nname = \"flask\"\nversion = \"3.0.0\"\nsource = { registry = \"https://pypi.org/simple\" }\n");
    for index in 0..count {
        text.push_str(&format!(
            "\n[[package]]\nname = \"pkg-{index}\"\nversion = \"1.{index}.0\"\nsource = {{ registry = \"https://pypi.org/simple\" }}\n"
        ));
        let mut dependencies = Vec::new();
        if index + 1 < count {
            dependencies.push(format!(
                "{{ name = \"pkg-{}\", marker = \"sys_platform == 'linux'\" }}",
                index + 1
            ));
        }
        if index > 0 {
            dependencies.push(format!("{{ name = \"pkg-{}\" }}", index - 1));
        }
        if !dependencies.is_empty() {
            text.push_str(&format!("dependencies = [{}]\n", dependencies.join(", ")));
        }
        text.push_str(&format!("wheels = [{{ url = \"https://files.example/pkg_{index}-1.{index}.0-py3-none-any.whl\", hash = \"sha256:{index:064x}\" }}]\n"));
    }
    text
}

fn big_pylock(count: usize) -> String {
    let mut text = String::from("lock-version = \"1.0\"\ncreated-by = \"test\"\n\n[[packages]]\nname = \"flask\"\nversion = \"3.0.0\"\n");
    for index in 0..count {
        text.push_str(&format!(
            "\n[[packages]]\nname = \"pkg-{index}\"\nversion = \"1.{index}.0\"\n"
        ));
        if index % 2 == 1 {
            text.push_str("marker = \"python_version >= '3.9' and sys_platform != 'win32'\"\n");
        }
    }
    text
}

#[test]
fn a_100000_package_uv_lock_and_a_20000_package_pylock_are_read() {
    let directory = tempfile::tempdir().unwrap();
    fs::write(directory.path().join("uv.lock"), big_uv_lock(100_000)).unwrap();
    fs::write(directory.path().join("pylock.toml"), big_pylock(20_000)).unwrap();
    for (file, count) in [("uv.lock", 100_001), ("pylock.toml", 20_001)] {
        // Generous: a quadratic parser took minutes; this fails only on such a hang.
        let measured = run_measured(
            &mut ours(directory.path(), &["--from", file, "-v"]),
            Duration::from_secs(300),
        );
        let output = measured.output;
        assert!(output.status.success(), "{file}: {}", stderr(&output));
        assert!(
            stderr(&output).contains(&format!("{count} packages installed per the files")),
            "{file}: {}",
            stderr(&output)
        );
        assert!(
            stdout(&output).contains("opentelemetry-instrumentation-flask=="),
            "{file}: {}",
            stdout(&output)
        );
    }
}

// ---------------------------------------------------------------------------------------
// The redaction property, as the fuzz target `requirements_redaction` checks it
// ---------------------------------------------------------------------------------------

#[test]
fn no_requirements_diagnostic_holds_a_url_password() {
    let seeds = [
        format!("-r https://user:{SECRET}@host/r.txt\n"),
        format!("-c https://{SECRET}@host/c.txt\n"),
        format!("--requirement=https://u:{SECRET}@host/r.txt\n"),
        format!("foo @ https://u:{SECRET}@h/x.whl ; python_version >>> \"3\"\n"),
        format!("https://u:{SECRET}@h/x.whl#egg=foo\n"),
        format!("foo @ https://u:{SECRET}@h/foo-1.0.tar.gz\n"),
        format!("foo==https://u:{SECRET}@h/\n"),
        format!("-e git+https://u:{SECRET}@h/x.git#egg=x\nflask>=1 --hash=https://u:{SECRET}@h\n"),
        format!("foo[https://u:{SECRET}@h]==1\n"),
        format!("--index-url https://u:{SECRET}@h/simple\n-r base.txt\n"),
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet = b" \n\\#=.-[]{}\"';<>~!@,:/0123456789abcdefghijklmnopqrstuvwxyz";
    for seed in &seeds {
        otel_bootstrap::fuzzing::requirements_redaction(seed.as_bytes());
        for _ in 0..200 {
            let mut bytes = seed.as_bytes().to_vec();
            for _ in 0..1 + next() % 3 {
                let position = (next() as usize) % bytes.len();
                bytes[position] = alphabet[(next() as usize) % alphabet.len()];
            }
            otel_bootstrap::fuzzing::requirements_redaction(&bytes);
        }
    }
}

#[test]
fn absolute_paths_work_from_a_deleted_working_directory() {
    let directory = project("flask==3.0.0\n");
    let gone = directory.path().join("gone");
    fs::create_dir_all(&gone).unwrap();
    // A shell enters the directory, removes it, then becomes our binary.
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg("cd \"$1\" && rmdir \"$1\" && exec \"$2\" --from \"$3\" --python-version 3.12 --platform linux")
        .arg("sh")
        .arg(&gone)
        .arg(support::python::bin())
        .arg(directory.path().join("requirements.txt"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", support::python::empty_home())
        .env("LANG", "C.UTF-8");
    let output = run_measured(&mut cmd, Duration::from_secs(60)).output;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("opentelemetry-instrumentation-flask=="),
        "{}",
        stdout(&output)
    );
}

#[test]
fn a_closed_stderr_does_not_stop_a_verbose_run() {
    let directory = project("flask==3.0.0\nredis>=5\n");
    let mut child = ours(directory.path(), &["--from", "requirements.txt", "-v"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Closed before the run writes anything: every diagnostic meets a broken pipe.
    drop(child.stderr.take());
    let mut stdout_pipe = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout_pipe.read_to_string(&mut text);
        text
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a hang");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = reader.join().unwrap();
    assert_eq!(status.code(), Some(0), "{text}");
    assert!(
        text.contains("opentelemetry-instrumentation-flask=="),
        "{text}"
    );
}

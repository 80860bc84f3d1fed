//! Running a command for its own peak memory (RSS), with a bound that only catches a hang.
//!
//! Linux carries a process's peak RSS across `exec`, and a child spawned from this test
//! binary (fork or vfork) starts from the test process's own peak, which in the one
//! integration binary running many tests at once can be hundreds of MiB. So the command
//! runs as the grandchild of a small Python process, which forks and execs it and reports
//! the grandchild's `ru_maxrss` from `wait4`: a floor of a few MiB, not of this process.

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::python;

const WRAPPER: &str = r#"import os, sys
pid = os.fork()
if pid == 0:
    try:
        os.execv(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as report:
    report.write(str(usage.ru_maxrss))
code = os.waitstatus_to_exitcode(status)
if code < 0:
    os.kill(os.getpid(), -code)
sys.exit(code)
"#;

/// What a finished command did: its output and its own peak RSS in KiB.
pub struct Measured {
    pub output: Output,
    pub max_rss_kib: i64,
}

/// Runs `command` (built with `env_clear`, as `python::command` does: its explicit
/// variables, arguments and directory are carried over) to completion and measures its
/// peak RSS. Past `limit` the whole process group is killed and the test fails: a hang.
pub fn run_measured(command: &Command, limit: Duration) -> Measured {
    let python3 = python::python3().expect("python3 measures peak memory");
    let report = tempfile::NamedTempFile::new().expect("temp file");
    let mut wrapper = Command::new(python3);
    wrapper
        .env_clear()
        .args(["-I", "-S", "-c", WRAPPER])
        .arg(report.path())
        .arg(command.get_program())
        .args(command.get_args());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => wrapper.env(name, value),
            None => wrapper.env_remove(name),
        };
    }
    if let Some(directory) = command.get_current_dir() {
        wrapper.current_dir(directory);
    }
    std::os::unix::process::CommandExt::process_group(&mut wrapper, 0);
    let mut child = wrapper
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the measured command");
    let pid = child.id() as libc::pid_t;
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let done = Arc::new(AtomicBool::new(false));
    let hung = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let done = Arc::clone(&done);
        let hung = Arc::clone(&hung);
        std::thread::spawn(move || {
            let start = Instant::now();
            while !done.load(Ordering::SeqCst) {
                if start.elapsed() > limit {
                    hung.store(true, Ordering::SeqCst);
                    // SAFETY: kill(2) on the process group we created; no memory involved.
                    unsafe { libc::kill(-pid, libc::SIGKILL) };
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let status = child.wait().expect("wait for the measured command");
    done.store(true, Ordering::SeqCst);
    watchdog.join().unwrap();
    assert!(
        !hung.load(Ordering::SeqCst),
        "{command:?} did not finish within {limit:?} (a hang)"
    );
    let mut text = String::new();
    std::fs::File::open(report.path())
        .and_then(|mut file| file.read_to_string(&mut text))
        .expect("the wrapper's report");
    Measured {
        output: Output {
            status,
            stdout: stdout.join().unwrap_or_default(),
            stderr: stderr.join().unwrap_or_default(),
        },
        max_rss_kib: text.trim().parse().expect("a number of KiB"),
    }
}

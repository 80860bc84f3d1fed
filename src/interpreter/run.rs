//! The one way this tool runs an interpreter: never through a shell, in a process group of
//! its own, with one deadline and capped output (discovery's probe, the `--python` request
//! search and the instrumentor load check all go through [`run_script`]).

use std::io::{self, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long an interpreter may take to answer before it is killed.
pub(crate) const INTERPRETER_TIMEOUT: Duration = Duration::from_secs(30);

/// The most an interpreter query may print (stdout and stderr each); more is an error.
const SCRIPT_OUTPUT_CAP: usize = 1024 * 1024;

/// What an interpreter printed, and how it ended.
#[derive(Debug)]
pub(crate) struct ScriptOutput {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs `interpreter` with `arguments` (never through a shell), in a process group of its
/// own, reading each stream up to [`SCRIPT_OUTPUT_CAP`]. One deadline,
/// [`INTERPRETER_TIMEOUT`], covers the run and the reading; on it, or when the output
/// passes the cap, the whole group is killed (a background child holding the pipe open
/// included) and the error says which. The one way this tool runs an interpreter.
pub(crate) fn run_script(interpreter: &Path, arguments: &[&str]) -> Result<ScriptOutput, String> {
    let mut child = spawn_query(interpreter, arguments)
        .map_err(|error| format!("could not start it: {error}"))?;
    let group = child.id();
    let too_much = Arc::new(AtomicBool::new(false));
    let stdout = read_capped(child.stdout.take(), Arc::clone(&too_much));
    let stderr = read_capped(child.stderr.take(), Arc::clone(&too_much));
    let deadline = Instant::now() + INTERPRETER_TIMEOUT;
    let mut pause = Duration::from_millis(1);
    let status = loop {
        if too_much.load(Ordering::SeqCst) {
            kill_group(&mut child, group);
            return Err(format!(
                "it printed more than {} MiB",
                SCRIPT_OUTPUT_CAP / (1024 * 1024)
            ));
        }
        if let Some(status) = child.try_wait().map_err(|error| error.to_string())? {
            break status;
        }
        if Instant::now() >= deadline {
            kill_group(&mut child, group);
            return Err(format!(
                "no answer within {} s",
                INTERPRETER_TIMEOUT.as_secs()
            ));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    };
    // The interpreter is done; whatever it left behind holding the pipes is not waited
    // for past a moment.
    let settle = Instant::now() + Duration::from_millis(200);
    while !(stdout.is_finished() && stderr.is_finished()) && Instant::now() < settle {
        std::thread::sleep(Duration::from_millis(2));
    }
    if !(stdout.is_finished() && stderr.is_finished()) {
        kill_group(&mut child, group);
    }
    // It may have ended because a reader stopped at the cap (a broken pipe), or just
    // before a reader got there.
    if too_much.load(Ordering::SeqCst) {
        return Err(format!(
            "it printed more than {} MiB",
            SCRIPT_OUTPUT_CAP / (1024 * 1024)
        ));
    }
    let text = |reader: std::thread::JoinHandle<Vec<u8>>| {
        String::from_utf8_lossy(&reader.join().unwrap_or_default()).into_owned()
    };
    Ok(ScriptOutput {
        status,
        stdout: text(stdout),
        stderr: text(stderr),
    })
}

/// Kills the process group `group` (the child and anything it started) and reaps the
/// child.
fn kill_group(child: &mut Child, group: u32) {
    #[cfg(unix)]
    if let Ok(group) = libc::pid_t::try_from(group) {
        // SAFETY: kill(2) on the process group we created for the child.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
    }
    #[cfg(not(unix))]
    let _ = group;
    let _ = child.kill();
    let _ = child.wait();
}

fn spawn_query(interpreter: &Path, arguments: &[&str]) -> io::Result<Child> {
    let spawn = || {
        let mut command = Command::new(interpreter);
        command
            .args(arguments)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        command.spawn()
    };
    // A just-written interpreter can be briefly "busy" while another thread forks.
    let mut attempts = 1;
    loop {
        match spawn() {
            Err(error) if error.kind() == io::ErrorKind::ExecutableFileBusy && attempts < 50 => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            result => return result,
        }
    }
}

/// Reads `pipe` to its end on a thread, keeping at most [`SCRIPT_OUTPUT_CAP`] bytes; past
/// that it sets `too_much` and stops.
fn read_capped(
    pipe: Option<impl Read + Send + 'static>,
    too_much: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buffer = Vec::new();
        if let Some(pipe) = pipe {
            let limit = u64::try_from(SCRIPT_OUTPUT_CAP).unwrap_or(u64::MAX) + 1;
            let _ = pipe.take(limit).read_to_end(&mut buffer);
            if buffer.len() > SCRIPT_OUTPUT_CAP {
                too_much.store(true, Ordering::SeqCst);
                buffer.truncate(SCRIPT_OUTPUT_CAP);
            }
        }
        buffer
    })
}

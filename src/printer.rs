//! Everything written to the terminal: labelled messages on stderr (`error:`, `warning:`,
//! `hint:`), colour, verbosity, and data on stdout, where a closed pipe is a clean end.

use std::fmt;
use std::io::{self, Write};

/// `eprintln!` that ignores a closed or broken stderr (`2>&-`, `2>&1 | head -1`) instead of
/// panicking: a message that cannot be shown must never stop a run (least of all an
/// install's verification). Every message of the tool goes through it or
/// [`eprint_labelled`].
#[macro_export]
macro_rules! eprint_line {
    ($($argument:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($argument)*);
    }};
}

/// `eprint!` (no newline) with the same rule as [`eprint_line!`].
#[macro_export]
macro_rules! eprint_text {
    ($($argument:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($argument)*);
    }};
}

/// How much to say on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// What a job says, and when: the verbosity and the output format decide (uv's `Printer`).
/// Steps and results (`say`) and warnings go to stderr unless `-q`; warnings are left to
/// the document under `--format json`, which carries them; details only with `-v`. Every
/// message is redacted ([`crate::redact`]) on its way out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Printer {
    verbosity: Verbosity,
    json: bool,
}

impl Printer {
    /// `json`: the run writes a JSON document (which carries the warnings itself).
    pub(crate) fn new(verbosity: Verbosity, json: bool) -> Self {
        Self { verbosity, json }
    }

    pub(crate) fn verbosity(self) -> Verbosity {
        self.verbosity
    }

    pub(crate) fn is_verbose(self) -> bool {
        self.verbosity == Verbosity::Verbose
    }

    /// Whether warnings and notes are printed (not `-q`, not JSON).
    pub(crate) fn shows_warnings(self) -> bool {
        self.verbosity >= Verbosity::Normal && !self.json
    }

    /// A step or a result: `Installing …`, `Done in …`.
    pub(crate) fn say(self, message: &str) {
        if self.verbosity >= Verbosity::Normal {
            crate::eprint_line!("{}", crate::redact::redact(message));
        }
    }

    /// `warning: …`.
    pub(crate) fn warn(self, message: impl fmt::Display) {
        if self.shows_warnings() {
            eprint_labelled(Label::Warning, crate::redact::redact(&message.to_string()));
        }
    }

    /// `error:`, `warning:` or `hint:` said whatever the verbosity: what went wrong while
    /// a job goes on to its own exit status (a refused install's reasons, a failed
    /// restore), and what to do about it.
    pub(crate) fn always(self, label: Label, message: impl fmt::Display) {
        eprint_labelled(label, crate::redact::redact(&message.to_string()));
    }

    /// A line said as it is, whatever the verbosity: an installer's output after it
    /// failed, a conflict a failed install left, a note the job decided to give.
    pub(crate) fn line(self, message: &str) {
        crate::eprint_line!("{}", crate::redact::redact(message));
    }

    /// `note: …` unless `-q`. Notes are not part of a JSON document, so they are said
    /// with one too.
    pub(crate) fn note(self, message: &str) {
        if self.verbosity >= Verbosity::Normal {
            crate::eprint_line!("note: {}", crate::redact::redact(message));
        }
    }

    /// A detail, shown with `-v` only.
    pub(crate) fn detail(self, message: &str) {
        if self.is_verbose() {
            crate::eprint_line!("{}", crate::redact::redact(message));
        }
    }
}

/// The prefix of a message on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Error,
    Warning,
    Hint,
}

impl Label {
    fn text(self) -> &'static str {
        match self {
            Label::Error => "error",
            Label::Warning => "warning",
            Label::Hint => "hint",
        }
    }

    fn style(self) -> anstyle::Style {
        let color = match self {
            Label::Error => anstyle::AnsiColor::Red,
            Label::Warning => anstyle::AnsiColor::Yellow,
            Label::Hint => anstyle::AnsiColor::Cyan,
        };
        anstyle::Style::new().bold().fg_color(Some(color.into()))
    }
}

/// Prints `label: message` on stderr. The label is colored only when stderr is a terminal
/// and color is allowed (`--color`, see [`set_color`]; `NO_COLOR`, `CLICOLOR_FORCE`,
/// `TERM=dumb`); escape sequences are removed otherwise.
pub fn eprint_labelled(label: Label, message: impl fmt::Display) {
    let style = label.style();
    let _ = writeln!(
        anstream::stderr(),
        "{style}{}:{style:#} {message}",
        label.text()
    );
}

/// Applies `--color` to everything written through `anstream` (our labels, clap's help).
pub fn set_color(choice: clap::ColorChoice) {
    anstream::ColorChoice::write_global(match choice {
        clap::ColorChoice::Always => anstream::ColorChoice::Always,
        clap::ColorChoice::Never => anstream::ColorChoice::Never,
        clap::ColorChoice::Auto => anstream::ColorChoice::Auto,
    });
}

/// Writes `bytes` (data) to stdout and flushes. A closed stdout (`otel-bootstrap | head
/// -1`) is a clean end, not an error; any other failure names stdout.
pub fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut stdout = io::stdout().lock();
    finish_stdout(stdout.write_all(bytes).and_then(|()| stdout.flush()))
}

/// The end of a write to stdout: a broken pipe is success.
pub(crate) fn finish_stdout(result: io::Result<()>) -> anyhow::Result<()> {
    match result {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(anyhow::Context::context(other, "cannot write to stdout")?),
    }
}

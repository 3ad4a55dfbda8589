//! Running child processes: every command is echoed before it runs, failures carry a message
//! and an exit code for xtask itself.

use std::ffi::OsStr;
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Why xtask stops: a message for the user (may be empty when already printed) and an exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }
    /// A step failed (exit 1).
    pub fn step(message: impl Into<String>) -> Self {
        Failure::new(1, message)
    }
    /// The reason was printed already.
    pub fn silent(code: u8) -> Self {
        Failure::new(code, String::new())
    }
}

/// One progress line.
pub fn step(what: impl fmt::Display) {
    eprintln!("xtask: {what}");
}

/// Variables `cargo run` sets for the xtask binary itself; they are not ours to pass on.
const CARGO_RUN_VARS: &[&str] = &[
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_CRATE_NAME",
    "CARGO_BIN_NAME",
    "CARGO_PRIMARY_PACKAGE",
];

/// A command that echoes itself (`xtask: $ ...`) before running.
pub struct Cmd {
    inner: Command,
    shown: String,
}

impl Cmd {
    /// `shown` is how the program is printed (`cargo` rather than the full path in `$CARGO`).
    pub fn new(program: impl AsRef<OsStr>, shown: &str) -> Self {
        let mut inner = Command::new(program);
        for var in CARGO_RUN_VARS {
            inner.env_remove(var);
        }
        for (key, _) in std::env::vars_os() {
            if key.to_str().is_some_and(|k| k.starts_with("CARGO_PKG_")) {
                inner.env_remove(key);
            }
        }
        Cmd {
            inner,
            shown: quote(shown),
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.shown.push(' ');
        self.shown.push_str(&quote(&arg.as_ref().to_string_lossy()));
        self.inner.arg(arg);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for arg in args {
            self = self.arg(arg);
        }
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.inner.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: &str) -> Self {
        self.inner.env_remove(key);
        self
    }

    pub fn current_dir(mut self, dir: &Path) -> Self {
        self.inner.current_dir(dir);
        self
    }

    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// The underlying command, for pipelines.
    pub fn into_command(self) -> Command {
        self.inner
    }

    /// Run with inherited stdio; a non-zero exit is a failure.
    pub fn run_checked(self) -> Result<(), Failure> {
        let shown = self.shown.clone();
        let code = self.run_status()?;
        if code != 0 {
            return Err(Failure::step(format!(
                "`{shown}` failed (exit code {code})"
            )));
        }
        Ok(())
    }

    /// Run with inherited stdio and return its exit code (128+N for signal N).
    pub fn run_status(mut self) -> Result<i32, Failure> {
        step(format_args!("$ {}", self.shown));
        let status = self
            .inner
            .status()
            .map_err(|e| spawn_failure(&self.shown, &e))?;
        Ok(exit_code(status))
    }

    /// Run with stdout shown line by line as it comes *and* collected (stderr and stdin
    /// inherited); returns the exit code and everything printed on stdout.
    pub fn run_tee(mut self) -> Result<(i32, String), Failure> {
        step(format_args!("$ {}", self.shown));
        let mut child = self
            .inner
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| spawn_failure(&self.shown, &e))?;
        let mut collected = String::new();
        if let Some(out) = child.stdout.take() {
            let mut stdout = std::io::stdout();
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let _ = writeln!(stdout, "{line}");
                let _ = stdout.flush();
                collected.push_str(&line);
                collected.push('\n');
            }
        }
        let status = child
            .wait()
            .map_err(|e| Failure::step(format!("cannot wait for `{}`: {e}", self.shown)))?;
        Ok((exit_code(status), collected))
    }

    /// Run quietly (stdout and stderr captured), give up after `timeout`.
    pub fn capture(mut self, timeout: Duration) -> Result<Captured, Failure> {
        step(format_args!("$ {}", self.shown));
        let mut child = self
            .inner
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| spawn_failure(&self.shown, &e))?;
        // Drain both pipes on threads so a chatty child cannot block on a full pipe.
        let out = drain(child.stdout.take());
        let err = drain(child.stderr.take());
        let status = wait_timeout(&mut child, timeout);
        let stdout = out.join().unwrap_or_default();
        let stderr = err.join().unwrap_or_default();
        match status {
            Some(status) => Ok(Captured {
                code: exit_code(status),
                stdout,
                stderr,
            }),
            None => Err(Failure::step(format!(
                "`{}` did not finish within {}s",
                self.shown,
                timeout.as_secs()
            ))),
        }
    }

    /// Like `capture`, but a non-zero exit is a failure that quotes the child's stderr.
    pub fn capture_checked(self, timeout: Duration) -> Result<String, Failure> {
        let shown = self.shown.clone();
        let out = self.capture(timeout)?;
        if out.code != 0 {
            return Err(Failure::step(format!(
                "`{shown}` failed (exit code {}): {}",
                out.code,
                out.first_error_line()
            )));
        }
        Ok(out.stdout)
    }
}

pub struct Captured {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Captured {
    /// The most useful single line of diagnostics the child gave.
    pub fn first_error_line(&self) -> &str {
        self.stderr
            .lines()
            .chain(self.stdout.lines())
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("no output")
    }
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Wait for `child`; kill it after `timeout`. `None` means it timed out.
pub fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(2);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => {
                thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

pub fn exit_code(status: ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

pub fn spawn_failure(shown: &str, err: &std::io::Error) -> Failure {
    let program = shown.split(' ').next().unwrap_or(shown);
    if err.kind() == std::io::ErrorKind::NotFound {
        Failure::step(format!("`{program}` not found on PATH"))
    } else {
        Failure::step(format!("cannot run `{shown}`: {err}"))
    }
}

/// Shell-style quoting for display only.
fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

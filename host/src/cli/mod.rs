//! The `clnrm` command line: parse arguments, load and check every suite
//! before starting anything, run, report, and map the result to an exit code
//! (0 all passed, 1 a test failed, 2 bad input or environment).
//!
//! One file per subcommand: its clap `Args` (whose doc comment is the
//! subcommand's help) and `Args::exec`, which returns the exit code. Adding a
//! subcommand is adding its file and one line to `subcommands!` below.

use clap::Parser;

mod docker;
mod image_progress;
mod output;
mod progress;
mod report_merge;
mod run_watch;
mod suites;

pub const EXIT_PASS: i32 = 0;
pub const EXIT_FAIL: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;
/// 128 + SIGINT, as shells report a Ctrl-C.
pub const EXIT_INTERRUPTED: i32 = 130;

#[derive(Parser, Debug)]
#[command(
    name = "clnrm",
    version,
    about = "Chaos-engineering test runner: real faults in real containers, proven by OpenTelemetry spans"
)]
pub struct Cli {
    /// More logging (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// The container engine: docker, podman or auto (default: CLNRM_ENGINE,
    /// then DOCKER_HOST / CONTAINER_HOST, then the first socket that answers:
    /// Docker's, Podman's rootful, Podman's rootless).
    #[arg(long, global = true, value_enum)]
    pub engine: Option<crate::backend::engine::Choice>,
    #[command(subcommand)]
    pub command: Command,
}

/// Declares each subcommand's module, its `Command` variant (named after the
/// subcommand) and its dispatch.
macro_rules! subcommands {
    ($($variant:ident => $module:ident,)*) => {
        $(mod $module;)*

        #[derive(clap::Subcommand, Debug)]
        pub enum Command {
            $($variant($module::Args),)*
        }

        impl Command {
            async fn exec(self) -> i32 {
                match self {
                    $(Command::$variant(args) => args.exec().await,)*
                }
            }
        }
    };
}

// In the order `clnrm --help` lists them.
subcommands! {
    Run => run,
    Replay => replay,
    Validate => validate,
    Pull => pull,
    Gc => gc,
    Report => report,
    Plugins => plugins,
    Doctor => doctor,
    Init => init,
    Fmt => fmt,
    Render => render,
    Spans => spans,
    Graph => graph,
    Diff => diff,
    Migrate => migrate,
}

pub async fn main(cli: Cli) -> i32 {
    if let Some(e) = cli.engine {
        crate::backend::engine::set_flag(e);
    }
    // Said once, before any command: otherwise it surfaces as "Docker is unreachable".
    if let Err(e) = crate::backend::engine::check_process_choice() {
        eprintln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    cli.command.exec().await
}

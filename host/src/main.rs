use clap::Parser;
use clnrm::cli::{self, Cli};

fn main() {
    quiet_on_closed_stdout();
    let cli = Cli::parse();
    let filter = match cli.verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter)),
        )
        .with_writer(std::io::stderr)
        .init();
    let code = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(cli::main(cli)),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            cli::EXIT_BAD_INPUT
        }
    };
    std::process::exit(code);
}

/// `clnrm doctor | head -1`: once the reader has gone, `println!` panics with
/// "failed printing to stdout: Broken pipe". Say nothing and end as a tool
/// killed by SIGPIPE would (141). SIGPIPE itself stays ignored: a write to an
/// engine's or a collector's closed socket must stay an error we handle.
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.starts_with("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}

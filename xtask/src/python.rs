//! The Python packages the report tests read our output with: `junitparser` (a real JUnit
//! consumer) and the official `opentelemetry-proto` definitions with `protobuf` (to decode
//! OTLP), and the OpenTelemetry SDK with both OTLP exporters (gRPC and HTTP), which the
//! receiver tests send real SDK spans with. Installed with pip only when the import fails.

use std::time::Duration;

use crate::proc::{step, Cmd, Failure};
use crate::workspace::Workspace;

const PACKAGES: &[&str] = &[
    "junitparser",
    "opentelemetry-proto",
    "protobuf",
    "opentelemetry-sdk",
    "opentelemetry-exporter-otlp-proto-grpc",
    "opentelemetry-exporter-otlp-proto-http",
];
const PROBE: &str =
    "import junitparser, opentelemetry.proto, google.protobuf, opentelemetry.sdk.trace, \
                     opentelemetry.exporter.otlp.proto.grpc.trace_exporter, \
                     opentelemetry.exporter.otlp.proto.http.trace_exporter";

fn python(ws: &Workspace) -> Cmd {
    Cmd::new("python3", "python3").current_dir(&ws.root)
}

pub fn ensure(ws: &Workspace) -> Result<(), Failure> {
    step("checking the Python test packages ...");
    let probe = python(ws)
        .args(["-c", PROBE])
        .capture(Duration::from_secs(60))
        .map_err(|f| {
            Failure::step(format!(
                "python3 is needed by the report tests: {}",
                f.message
            ))
        })?;
    if probe.code == 0 {
        step(format_args!("{} are installed", PACKAGES.join(", ")));
        return Ok(());
    }
    step(format_args!(
        "installing {} with pip ...",
        PACKAGES.join(", ")
    ));
    python(ws)
        .args(["-m", "pip", "install", "--quiet"])
        .args(PACKAGES)
        .run_checked()?;
    let again = python(ws)
        .args(["-c", PROBE])
        .capture(Duration::from_secs(60))?;
    if again.code != 0 {
        return Err(Failure::step(format!(
            "pip installed {} but python3 cannot import them: {}",
            PACKAGES.join(", "),
            again.first_error_line()
        )));
    }
    Ok(())
}

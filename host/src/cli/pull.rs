//! `clnrm pull FILES...`: pull and build the images the suites need, without
//! running anything (a CI step that fills the image cache).

use super::docker::{connect, prepare_images};
use super::suites::load_all;
use super::EXIT_PASS;

/// Pull and build the images the suites need, without running them.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[arg(required = true)]
    files: Vec<String>,
}

impl Args {
    pub async fn exec(self) -> i32 {
        let suites = match load_all(&self.files) {
            Ok(s) => s,
            Err(code) => return code,
        };
        let docker = match connect().await {
            Ok(d) => d,
            Err(code) => return code,
        };
        match prepare_images(&docker, &suites, true).await {
            Ok(_) => EXIT_PASS,
            Err(code) => code,
        }
    }
}

//! Reports: what a run found, for machines (JSON) and for people (summary).

mod json;
mod summary;

pub use json::write_json;
pub use summary::print_summary;

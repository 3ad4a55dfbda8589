//! The host capabilities a plugin reaches through the WIT: one folder each,
//! holding its host impl (`host.rs`) and whatever kernel or runtime code only
//! it uses (the network faults in [`net`], the cgroup readers in [`cgroup`]).

pub mod cgroup;
mod clock;
mod compose;
mod container;
mod log;
pub mod net;
mod resource;
mod rng;
mod scenario;
mod spans;

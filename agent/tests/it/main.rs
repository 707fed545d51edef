//! Integration tests of the agent against the in-process simulator (one test binary, modules inside).

mod bulk;
mod cli;
mod convergence;
mod daemon;
mod hardening;
mod lifecycle;
mod locking;
mod observer;
mod partial;
mod passive;
mod speed;
mod support;
mod transport;
mod validate;

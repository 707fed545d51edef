//! The only module that talks to the router, in four files, one layer each:
//!
//! - `tls.rs`: rustls with the `ring` provider and the four ways to trust a router's certificate;
//! - `retry.rs`: backoff with jitter for transient failures;
//! - `client.rs`: [`RouterClient`], which sends each request, reads the reply in full, shows every
//!   attempt to an optional [`Observer`] and hands the outcome to `classify` (which decides every
//!   code, transport failures included);
//! - `rest.rs` and `probe.rs`: the REST calls the agent makes, and `validate`'s own TCP and TLS probes.
//!
//! Everything else in the agent is pure and works on the types this module returns.

mod client;
pub mod passive;
mod probe;
mod rest;
mod retry;
mod tls;

pub use client::{Exchange, MAX_BODY, Observer, RouterClient};
pub use rest::{Added, Changed, encode_query};
pub use retry::RetryPolicy;
pub use tls::{fingerprint, no_trust_config, tls_config};

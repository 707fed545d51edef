//! A minimal, real MikroTik address-list agent.
//!
//! Given a router's REST URL, TLS settings, credentials and list names, the agent keeps the router's
//! IPv4 and IPv6 firewall address-lists in step with a set of expiring grants: it adds an entry
//! (tagged as its own, with a RouterOS `timeout` equal to the grant's remaining life) when access is
//! granted, refreshes it when a later grant arrives, and removes it when the last grant for the address
//! is revoked or expires. Every failure carries one stable code ([`error::Code`]).
//!
//! Code map: [`error`] and [`classify`] hold the codes and the one classification of replies and
//! transport failures; [`address`], [`duration`], [`wire`] and [`plan`] are pure; [`store`] keeps
//! grants on disk; [`config`] merges file, environment and flags; [`net`] is the only module that
//! talks to the router; [`reconcile`] executes plans through it; [`request`] reads and shows grants
//! for both front ends; [`commands`] and [`daemon`] are what the `routeros-agent` binary runs.

pub mod address;
pub mod batch;
pub mod classify;
pub mod clock;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod duration;
pub mod error;
pub mod net;
pub mod passive;
pub mod plan;
pub mod reconcile;
pub mod request;
pub mod rules;
pub mod store;
pub mod wire;

pub use error::{Code, Error, Result};

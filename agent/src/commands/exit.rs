//! The exit statuses of `routeros-agent`: a closed, documented set of small numbers.
//!
//! Error codes such as 208001 are printed, never used as exit statuses: they do not fit in 8 bits.
//! The `--help` text (`cli.rs`) and the README list the same statuses.

/// Everything worked.
pub const OK: u8 = 0;
/// The router or the network failed; the code is printed. Grants are kept.
pub const FAILED: u8 = 1;
/// Bad usage or configuration; nothing was sent.
pub const CONFIG: u8 = 2;
/// The grant store could not be read or written.
pub const STORE: u8 = 3;
/// Done, but a granted address is held by an entry the agent does not own (208105).
pub const CONFLICT: u8 = 4;

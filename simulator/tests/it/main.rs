//! Integration tests of the RouterOS REST simulator, through a real HTTPS client.
//!
//! One test binary (STYLE.md rule 13) with a module per area of ROUTEROS-REST.md: the methods and
//! commands of section 2 (`address_list`), values and address rules of sections 3 and 4 (`values`),
//! timed entries on the simulator's clock (`expiry`), users and policies (`auth`), service changes
//! acting on the listeners (`services`), error replies (`errors`), session limit and per-user queues
//! (`sessions`), odd inputs that must neither panic nor hang (`robustness`), version-dependent shapes
//! (`versions`), TLS and HTTP/1.1 behaviour (`transport`), and the comparison with real routers'
//! replies in `fixtures/routeros` (`fixtures`); plus the simulator's own control API
//! (`control_api`) and fault injection (`fault_injection`), and the firewall filter menus
//! (`filter`), the certificate store (`certificate`), and the router-speed profile on the simulator's clock (`modelled`). `support` holds the HTTPS client that
//! trusts only the simulator's CA and the raw-socket helpers.
//! Every test starts its own simulator on loopback port 0; none sleeps.

mod address_list;
mod auth;
mod binary;
mod certificate;
mod control_api;
mod errors;
mod expiry;
mod fault_injection;
mod fetch;
mod filter;
mod fixtures;
mod fuzz;
mod hardening;
mod modelled;
mod robustness;
mod scheduler;
mod scripting;
mod services;
mod sessions;
mod support;
mod transport;
mod values;
mod versions;

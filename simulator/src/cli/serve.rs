//! `routeros-sim [serve]`: start the simulator as the flags describe, write its CA where clients can
//! read it, print how to reach it, and stop on Ctrl-C.

use std::path::PathBuf;
use std::time::Duration;

use super::CliError;
use super::args::Serve;
use super::print;
use crate::{Identity, Limits, Seed, Simulator};

/// Where the CA goes without `--ca-out`.
fn default_ca_path() -> PathBuf {
    std::env::temp_dir().join("routeros-sim").join("ca.pem")
}

/// Serves until Ctrl-C.
pub(super) async fn serve(cli: Serve) -> Result<(), CliError> {
    let mut limits = if cli.realistic {
        Limits::realistic()
    } else {
        Limits::default()
    };
    limits.session_limit = Duration::from_secs(cli.session_limit.max(1));
    if let Some(s) = cli.login_cache {
        limits.login_cache = Duration::from_secs(s);
    }
    let mut builder = Simulator::builder()
        .version(cli.routeros_version)
        .bind(cli.bind)
        .https_port(cli.https_port)
        .http_port((!cli.no_http).then_some(cli.http_port))
        .control_port(Some(cli.control_port))
        .control_token(cli.control_token)
        .tls_names(cli.tls_names)
        .tls13(cli.tls13)
        .limits(limits)
        .admin_password(Some(&cli.admin_password));
    if let Some(path) = &cli.seed {
        builder = builder.seed(Seed::from_file(path).map_err(CliError::Input)?);
    }
    if let (Some(cert), Some(key)) = (&cli.cert, &cli.key) {
        let identity =
            Identity::from_files(cert, key).map_err(|e| CliError::Input(e.to_string()))?;
        builder = builder.certificate(identity);
    }
    let sim = builder.start().await?;

    let ca_path = cli.ca_out.unwrap_or_else(default_ca_path);
    if let Some(dir) = ca_path.parent() {
        std::fs::create_dir_all(dir).map_err(CliError::file("create", dir))?;
    }
    std::fs::write(&ca_path, sim.ca_pem()).map_err(CliError::file("write", &ca_path))?;
    print::banner(&sim, &ca_path);

    tokio::signal::ctrl_c().await.map_err(CliError::Signal)?;
    eprintln!("stopping");
    sim.shutdown().await;
    Ok(())
}

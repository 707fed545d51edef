//! `routeros-sim`: run the RouterOS REST simulator from the command line.
//!
//! With no arguments it serves `www-ssl` on https://127.0.0.1:7443 and `www` on http://127.0.0.1:7080
//! with the user `admin`/`admin`, writes its CA certificate to a file, and prints a `curl` command
//! that works as printed.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use simulator::{Identity, Limits, Simulator, Version};

/// A fake MikroTik RouterOS v7 REST server with real TLS, for testing clients without a router.
#[derive(Debug, Parser)]
#[command(name = "routeros-sim", version, after_help = AFTER_HELP)]
struct Cli {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1", env = "ROUTEROS_SIM_BIND")]
    bind: IpAddr,
    /// Port of the HTTPS service (`www-ssl`); 0 picks a free port.
    #[arg(long, default_value_t = 7443, env = "ROUTEROS_SIM_HTTPS_PORT")]
    https_port: u16,
    /// Port of the plain HTTP service (`www`); 0 picks a free port.
    #[arg(long, default_value_t = 7080, env = "ROUTEROS_SIM_HTTP_PORT")]
    http_port: u16,
    /// Do not serve plain HTTP at all.
    #[arg(long)]
    no_http: bool,
    /// RouterOS version to behave as (shapes differ before 7.10, 7.16, 7.19 and from 7.24).
    #[arg(long = "routeros-version", default_value = "7.23.7", env = "ROUTEROS_SIM_VERSION")]
    routeros_version: Version,
    /// Password of the `admin` user.
    #[arg(long, default_value = simulator::DEFAULT_PASSWORD, env = "ROUTEROS_SIM_ADMIN_PASSWORD", hide_default_value = false)]
    admin_password: String,
    /// Where to write the CA certificate (PEM) that clients should trust.
    #[arg(long, env = "ROUTEROS_SIM_CA_OUT")]
    ca_out: Option<PathBuf>,
    /// Extra DNS name or IP address for the generated certificate (repeatable).
    #[arg(long = "tls-name", value_name = "NAME")]
    tls_names: Vec<String>,
    /// Serve this PEM certificate chain instead of generating one (needs --key).
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// Private key (PEM) for --cert.
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// Also offer TLS 1.3 (RouterOS documents TLS 1.2).
    #[arg(long)]
    tls13: bool,
    /// Behave like a small real router: about 8 requests a second and 1 ms per printed row.
    #[arg(long)]
    realistic: bool,
    /// Seconds after which a command is cut off with `400 Session closed` (router: 60).
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    session_limit: u64,
}

const AFTER_HELP: &str = "\
Examples:
  routeros-sim                                # https://127.0.0.1:7443, admin/admin
  routeros-sim --https-port 0 --no-http       # any free port, HTTPS only
  routeros-sim --routeros-version 7.9         # pre-7.10 timestamps, singleton arrays

Set RUST_LOG=debug to see every connection and refusal.";

fn default_ca_path() -> PathBuf {
    std::env::temp_dir().join("routeros-sim").join("ca.pem")
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("routeros-sim: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let mut limits = if cli.realistic { Limits::realistic() } else { Limits::default() };
    limits.session_limit = Duration::from_secs(cli.session_limit.max(1));
    let mut builder = Simulator::builder()
        .version(cli.routeros_version)
        .bind(cli.bind)
        .https_port(cli.https_port)
        .http_port((!cli.no_http).then_some(cli.http_port))
        .tls_names(cli.tls_names)
        .tls13(cli.tls13)
        .limits(limits)
        .admin_password(Some(&cli.admin_password));
    if let (Some(cert), Some(key)) = (&cli.cert, &cli.key) {
        builder = builder.certificate(Identity::from_files(cert, key)?);
    }
    let sim = builder.start().await?;

    let ca_path = cli.ca_out.unwrap_or_else(default_ca_path);
    if let Some(dir) = ca_path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(&ca_path, sim.ca_pem()).map_err(|e| format!("cannot write {}: {e}", ca_path.display()))?;

    let user = simulator::DEFAULT_USER;
    let pw = &cli.admin_password;
    println!("RouterOS simulator (RouterOS {}) is running.", sim.with_router(|r| r.version.resource_string()));
    println!("  www-ssl   {}/rest", sim.https_url());
    if let Some(http) = sim.http_url() {
        println!("  www       {http}/rest");
    }
    println!("  CA        {}", ca_path.display());
    println!("  user      {user} / {pw}");
    println!();
    println!("Try:");
    println!("  curl --cacert {} -u {user}:{pw} {}/rest/system/resource", ca_path.display(), sim.https_url());
    println!();
    println!("Press Ctrl-C to stop.");

    tokio::signal::ctrl_c().await?;
    eprintln!("stopping");
    sim.shutdown().await;
    Ok(())
}

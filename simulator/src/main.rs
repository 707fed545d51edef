//! `routeros-sim`: run the RouterOS REST simulator, or drive a running one through its control API.
//!
//! With no arguments it serves `www-ssl` on https://127.0.0.1:7443, `www` on http://127.0.0.1:7080
//! and the control API on http://127.0.0.1:7090, with the user `admin`/`admin`; it writes its CA
//! certificate to a file and prints a `curl` command that works as printed. The other subcommands
//! (`state`, `clock`, `reboot`, `journal`, `fault`, `tls`, `limits`) call the control API of a
//! running simulator and print its JSON answers.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde_json::{Value, json};
use simulator::{Identity, Limits, Seed, Simulator, Version};

/// A fake MikroTik RouterOS v7 REST server with real TLS, for testing clients without a router.
#[derive(Debug, Parser)]
#[command(name = "routeros-sim", version, after_help = AFTER_HELP, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: Serve,
}

const AFTER_HELP: &str = "\
Examples:
  routeros-sim                                   # https://127.0.0.1:7443, admin/admin
  routeros-sim --seed fixtures/seeds/vendor-guide.toml
  routeros-sim --https-port 0 --no-http          # any free port, HTTPS only
  routeros-sim --routeros-version 7.9            # pre-7.10 timestamps, singleton arrays
  routeros-sim fault add status --status 500 --detail 'not enough permissions (9)' --times 1
  routeros-sim clock advance 1h
  routeros-sim journal --method PUT

Set RUST_LOG=debug to see every connection and refusal.";

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the simulator (the default when no subcommand is given).
    Serve(Serve),
    /// Dump, reset, seed, snapshot or restore the router's state.
    State {
        #[command(subcommand)]
        op: StateOp,
        #[command(flatten)]
        control: Control,
    },
    /// Read, freeze, resume or advance the simulator's clock.
    Clock {
        #[command(subcommand)]
        op: Option<ClockOp>,
        #[command(flatten)]
        control: Control,
    },
    /// Reboot the router: timed entries vanish, connections drop and are refused for the downtime.
    Reboot {
        /// How long the router stays down (RouterOS duration such as 5s, or milliseconds).
        #[arg(long, default_value = "0s")]
        downtime: String,
        #[command(flatten)]
        control: Control,
    },
    /// Show, mark or clear the journal of requests.
    Journal {
        #[command(subcommand)]
        op: Option<JournalOp>,
        #[command(flatten)]
        filter: JournalArgs,
        #[command(flatten)]
        control: Control,
    },
    /// Add, list, remove or clear fault rules.
    Fault {
        #[command(subcommand)]
        op: FaultOp,
        #[command(flatten)]
        control: Control,
    },
    /// Show the CA and certificate fingerprint, or rotate the served certificate.
    Tls {
        #[command(subcommand)]
        op: Option<TlsOp>,
        #[command(flatten)]
        control: Control,
    },
    /// Show or set the router performance profile.
    Limits {
        /// Replace the profile with this JSON (fields: session_limit, serialize_per_user, request_cost, row_cost; times in ms).
        #[arg(long)]
        set: Option<String>,
        #[command(flatten)]
        control: Control,
    },
}

#[derive(Debug, Args)]
struct Serve {
    /// Address to listen on (all three listeners).
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
    /// Port of the control API; 0 picks a free port.
    #[arg(long, default_value_t = 7090, env = "ROUTEROS_SIM_CONTROL_PORT")]
    control_port: u16,
    /// Require `Authorization: Bearer <token>` on the control API.
    #[arg(long, env = "ROUTEROS_SIM_TOKEN", hide_env_values = true)]
    control_token: Option<String>,
    /// Seed file (TOML or JSON) describing users, groups, services and list entries.
    #[arg(long, env = "ROUTEROS_SIM_SEED")]
    seed: Option<PathBuf>,
    /// RouterOS version to behave as (shapes differ before 7.10, 7.16, 7.19 and from 7.24).
    #[arg(
        long = "routeros-version",
        default_value = "7.23.7",
        env = "ROUTEROS_SIM_VERSION"
    )]
    routeros_version: Version,
    /// Password of the `admin` user (when no seed is given).
    #[arg(long, default_value = simulator::DEFAULT_PASSWORD, env = "ROUTEROS_SIM_ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: String,
    /// Where to write the CA certificate (PEM) that clients should trust [default: <temp dir>/routeros-sim/ca.pem].
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
    /// Behave like a small real router: about 8 requests a second, 1 ms per printed row, and a
    /// 10-minute REST login cache (policy changes reach logged-in users late).
    #[arg(long)]
    realistic: bool,
    /// Remember a user's policies this many seconds after a login (router: 600; default 0, or 600
    /// with --realistic).
    #[arg(long, value_name = "SECONDS")]
    login_cache: Option<u64>,
    /// Seconds after which a command is cut off with `400 Session closed` (router: 60).
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    session_limit: u64,
}

#[derive(Debug, Args)]
struct Control {
    /// URL of the control API of a running simulator.
    #[arg(
        long,
        default_value = "http://127.0.0.1:7090",
        env = "ROUTEROS_SIM_CONTROL",
        global = true
    )]
    control: String,
    /// Bearer token of the control API.
    #[arg(
        long,
        env = "ROUTEROS_SIM_TOKEN",
        hide_env_values = true,
        global = true
    )]
    token: Option<String>,
}

#[derive(Debug, Subcommand)]
enum StateOp {
    /// Print the whole state as JSON (a snapshot).
    Dump,
    /// Return to the seed.
    Reset,
    /// Make a seed file (TOML or JSON) the state and what `reset` returns to.
    Load { file: PathBuf },
    /// Save the exact state to a file.
    Snapshot { file: PathBuf },
    /// Load a state saved by `snapshot`.
    Restore { file: PathBuf },
}

#[derive(Debug, Subcommand)]
enum ClockOp {
    /// Print the clock.
    Show,
    /// Stop the clock.
    Freeze,
    /// Let a frozen clock run again.
    Resume,
    /// Move the clock forward by a RouterOS duration (1h30m) or milliseconds.
    Advance { by: String },
}

#[derive(Debug, Subcommand)]
enum JournalOp {
    /// Print a mark; pass it to --since to see what happens after it.
    Mark,
    /// Forget the recorded requests.
    Clear,
}

#[derive(Debug, Args)]
struct JournalArgs {
    /// Path pattern (`*` wildcard).
    #[arg(long)]
    path: Option<String>,
    /// HTTP method.
    #[arg(long)]
    method: Option<String>,
    /// User name.
    #[arg(long)]
    user: Option<String>,
    /// Status.
    #[arg(long)]
    status: Option<u16>,
    /// Only entries at or after this mark.
    #[arg(long)]
    since: Option<u64>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum FaultOp {
    /// Add a rule: an action kind with its options, or a whole rule as JSON with --rule.
    Add(Box<FaultAdd>),
    /// List the rules with their counters.
    List,
    /// Remove a rule by id.
    Remove { id: u64 },
    /// Remove every rule.
    Clear,
}

#[derive(Debug, Args)]
struct FaultAdd {
    /// status, body, delay, refuse, reset, close-after-headers, close-after-bytes, stall, dribble,
    /// tls-expired, tls-wrong-name, tls-untrusted, tls-no-certificate, tls-plaintext.
    #[arg(required_unless_present = "rule")]
    kind: Option<String>,
    /// The whole rule as JSON (see docs/control-api.md).
    #[arg(long, conflicts_with = "kind")]
    rule: Option<String>,
    /// Only this method.
    #[arg(long)]
    method: Option<String>,
    /// Only paths matching this pattern (`*` wildcard).
    #[arg(long)]
    path: Option<String>,
    /// Only this user.
    #[arg(long)]
    user: Option<String>,
    /// Only this listener: www or www-ssl.
    #[arg(long)]
    listener: Option<String>,
    /// Fire only the next N times.
    #[arg(long)]
    times: Option<u64>,
    /// Let M matching requests through first.
    #[arg(long)]
    after: Option<u64>,
    /// Fire with this probability (0-1).
    #[arg(long)]
    probability: Option<f64>,
    /// Seed of the rule's generator.
    #[arg(long)]
    seed: Option<u64>,
    /// HTTP status (status, body).
    #[arg(long)]
    status: Option<u16>,
    /// RouterOS `detail` text (status).
    #[arg(long)]
    detail: Option<String>,
    /// Response body (body).
    #[arg(long)]
    body: Option<String>,
    /// Content type (body).
    #[arg(long)]
    content_type: Option<String>,
    /// Milliseconds (delay; the lower bound with --max-ms).
    #[arg(long)]
    ms: Option<u64>,
    /// Upper bound of a delay range.
    #[arg(long)]
    max_ms: Option<u64>,
    /// Bytes (close-after-bytes; per write for dribble).
    #[arg(long)]
    bytes: Option<usize>,
    /// Pause between writes (dribble).
    #[arg(long)]
    interval_ms: Option<u64>,
}

#[derive(Debug, Subcommand)]
enum TlsOp {
    /// Print the CA and the served certificate's SHA-256.
    Show,
    /// Serve a new certificate from the same CA.
    Rotate,
}

fn default_ca_path() -> PathBuf {
    std::env::temp_dir().join("routeros-sim").join("ca.pem")
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    // The control client (reqwest) needs the workspace's one crypto provider installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let result = match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(s)) => serve(s).await,
        Some(cmd) => control(cmd).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("routeros-sim: {e}");
            ExitCode::from(1)
        }
    }
}

type Res = Result<(), Box<dyn std::error::Error>>;

async fn serve(cli: Serve) -> Res {
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
        builder = builder.seed(Seed::from_file(path)?);
    }
    if let (Some(cert), Some(key)) = (&cli.cert, &cli.key) {
        builder = builder.certificate(Identity::from_files(cert, key)?);
    }
    let sim = builder.start().await?;

    let ca_path = cli.ca_out.unwrap_or_else(default_ca_path);
    if let Some(dir) = ca_path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(&ca_path, sim.ca_pem())
        .map_err(|e| format!("cannot write {}: {e}", ca_path.display()))?;

    let (user, pw) = sim.with_router(|r| {
        let u = r
            .users
            .users
            .iter()
            .find(|u| u.name == simulator::DEFAULT_USER)
            .or(r.users.users.first());
        u.map(|u| (u.name.clone(), u.password.clone()))
            .unwrap_or_default()
    });
    println!(
        "RouterOS simulator (RouterOS {}) is running.",
        sim.with_router(|r| r.version.resource_string())
    );
    println!("  www-ssl   {}/rest", sim.https_url());
    if let Some(http) = sim.http_url() {
        println!("  www       {http}/rest");
    }
    if let Some(c) = sim.control_url() {
        println!("  control   {c}   (routeros-sim --help lists the control subcommands)");
    }
    println!("  CA        {}", ca_path.display());
    println!("  user      {user} / {pw}");
    println!();
    println!("Try:");
    println!(
        "  curl --cacert {} -u {user}:{pw} {}/rest/system/resource",
        ca_path.display(),
        sim.https_url()
    );
    println!();
    println!("Press Ctrl-C to stop.");

    tokio::signal::ctrl_c().await?;
    eprintln!("stopping");
    sim.shutdown().await;
    Ok(())
}

/// A small client of the control API.
struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Client {
    fn new(c: &Control) -> Result<Self, Box<dyn std::error::Error>> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            http,
            base: c.control.trim_end_matches('/').to_owned(),
            token: c.token.clone(),
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, Box<dyn std::error::Error>> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| {
            format!("cannot reach the control API at {}: {e} (is `routeros-sim` running? set --control or ROUTEROS_SIM_CONTROL)", self.base)
        })?;
        let status = resp.status();
        let value: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let msg = value
                .get("error")
                .and_then(Value::as_str)
                .unwrap_or("no explanation given");
            return Err(format!("the control API answered {status}: {msg}").into());
        }
        Ok(value)
    }
}

fn print(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

async fn control(cmd: Command) -> Res {
    use reqwest::Method;
    match cmd {
        Command::Serve(_) => unreachable!("handled by the caller"),
        Command::State { op, control } => {
            let c = Client::new(&control)?;
            match op {
                StateOp::Dump => print(&c.call(Method::GET, "/state", None).await?),
                StateOp::Reset => print(&c.call(Method::POST, "/state/reset", None).await?),
                StateOp::Load { file } => {
                    let seed = Seed::from_file(&file)?;
                    print(
                        &c.call(Method::PUT, "/seed", Some(serde_json::to_value(seed)?))
                            .await?,
                    );
                }
                StateOp::Snapshot { file } => {
                    let state = c.call(Method::GET, "/state", None).await?;
                    std::fs::write(&file, serde_json::to_string_pretty(&state)?)
                        .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
                    println!("saved to {}", file.display());
                }
                StateOp::Restore { file } => {
                    let text = std::fs::read_to_string(&file)
                        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
                    let state: Value = serde_json::from_str(&text)
                        .map_err(|e| format!("{} is not a snapshot: {e}", file.display()))?;
                    print(&c.call(Method::PUT, "/state", Some(state)).await?);
                }
            }
        }
        Command::Clock { op, control } => {
            let c = Client::new(&control)?;
            let v = match op.unwrap_or(ClockOp::Show) {
                ClockOp::Show => c.call(Method::GET, "/clock", None).await?,
                ClockOp::Freeze => c.call(Method::POST, "/clock/freeze", None).await?,
                ClockOp::Resume => c.call(Method::POST, "/clock/resume", None).await?,
                ClockOp::Advance { by } => {
                    c.call(
                        Method::POST,
                        "/clock/advance",
                        Some(json!({ "by": span(&by) })),
                    )
                    .await?
                }
            };
            print(&v);
        }
        Command::Reboot { downtime, control } => {
            let c = Client::new(&control)?;
            print(
                &c.call(
                    Method::POST,
                    "/reboot",
                    Some(json!({ "downtime": span(&downtime) })),
                )
                .await?,
            );
        }
        Command::Journal {
            op,
            filter,
            control,
        } => {
            let c = Client::new(&control)?;
            match op {
                Some(JournalOp::Mark) => print(&c.call(Method::POST, "/journal/mark", None).await?),
                Some(JournalOp::Clear) => print(&c.call(Method::DELETE, "/journal", None).await?),
                None => {
                    let mut q = Vec::new();
                    let enc =
                        |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
                    if let Some(p) = &filter.path {
                        q.push(format!("path={}", enc(p)));
                    }
                    if let Some(m) = &filter.method {
                        q.push(format!("method={}", enc(m)));
                    }
                    if let Some(u) = &filter.user {
                        q.push(format!("user={}", enc(u)));
                    }
                    if let Some(s) = filter.status {
                        q.push(format!("status={s}"));
                    }
                    if let Some(s) = filter.since {
                        q.push(format!("since={s}"));
                    }
                    let v = c
                        .call(Method::GET, &format!("/journal?{}", q.join("&")), None)
                        .await?;
                    if filter.json {
                        print(&v);
                    } else {
                        print_journal(&v);
                    }
                }
            }
        }
        Command::Fault { op, control } => {
            let c = Client::new(&control)?;
            let v = match op {
                FaultOp::Add(a) => {
                    c.call(Method::POST, "/faults", Some(fault_rule(*a)?))
                        .await?
                }
                FaultOp::List => c.call(Method::GET, "/faults", None).await?,
                FaultOp::Remove { id } => {
                    c.call(Method::DELETE, &format!("/faults/{id}"), None)
                        .await?
                }
                FaultOp::Clear => c.call(Method::DELETE, "/faults", None).await?,
            };
            print(&v);
        }
        Command::Tls { op, control } => {
            let c = Client::new(&control)?;
            let v = match op.unwrap_or(TlsOp::Show) {
                TlsOp::Show => c.call(Method::GET, "/tls", None).await?,
                TlsOp::Rotate => c.call(Method::POST, "/tls/rotate", None).await?,
            };
            print(&v);
        }
        Command::Limits { set, control } => {
            let c = Client::new(&control)?;
            let v = match set {
                Some(json) => {
                    let body: Value = serde_json::from_str(&json)
                        .map_err(|e| format!("--set needs JSON: {e}"))?;
                    c.call(Method::PUT, "/limits", Some(body)).await?
                }
                None => c.call(Method::GET, "/limits", None).await?,
            };
            print(&v);
        }
    }
    Ok(())
}

/// A duration for the control API: milliseconds when it is a bare number, else RouterOS text.
fn span(text: &str) -> Value {
    match text.parse::<u64>() {
        Ok(ms) => json!(ms),
        Err(_) => json!(text),
    }
}

/// Builds a fault rule from `fault add` arguments.
fn fault_rule(a: FaultAdd) -> Result<Value, Box<dyn std::error::Error>> {
    if let Some(rule) = a.rule {
        return Ok(
            serde_json::from_str(&rule).map_err(|e| format!("--rule needs a JSON rule: {e}"))?
        );
    }
    let kind = a.kind.unwrap_or_default();
    let mut action = json!({ "kind": kind });
    let fields: [(&str, Option<Value>); 8] = [
        ("status", a.status.map(|v| json!(v))),
        ("detail", a.detail.map(|v| json!(v))),
        ("body", a.body.map(|v| json!(v))),
        ("content_type", a.content_type.map(|v| json!(v))),
        ("ms", a.ms.map(|v| json!(v))),
        ("max_ms", a.max_ms.map(|v| json!(v))),
        ("bytes", a.bytes.map(|v| json!(v))),
        ("interval_ms", a.interval_ms.map(|v| json!(v))),
    ];
    for (k, v) in fields {
        if let Some(v) = v {
            action[k] = v;
        }
    }
    let mut matcher = json!({});
    for (k, v) in [
        ("method", a.method),
        ("path", a.path),
        ("user", a.user),
        ("listener", a.listener),
    ] {
        if let Some(v) = v {
            matcher[k] = json!(v);
        }
    }
    let mut firing = json!({});
    if let Some(t) = a.times {
        firing["times"] = json!(t);
    }
    if let Some(m) = a.after {
        firing["after"] = json!(m);
    }
    if let Some(p) = a.probability {
        firing["probability"] = json!(p);
    }
    if let Some(s) = a.seed {
        firing["seed"] = json!(s);
    }
    Ok(json!({ "match": matcher, "firing": firing, "action": action }))
}

fn print_journal(v: &Value) {
    let s = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).unwrap_or("-").to_owned();
    println!(
        "{:>6}  {:<21}  {:<12}  {:<6}  {:<44}  {:>6}  {:>6}  fault",
        "seq", "client", "user", "method", "path", "status", "ms"
    );
    for e in v["entries"].as_array().into_iter().flatten() {
        let status = e
            .get("status")
            .and_then(Value::as_u64)
            .map_or("-".to_owned(), |s| s.to_string());
        println!(
            "{:>6}  {:<21}  {:<12}  {:<6}  {:<44}  {:>6}  {:>6}  {}",
            e["seq"],
            s(e, "client"),
            s(e, "user"),
            s(e, "method"),
            s(e, "path"),
            status,
            e["duration_ms"],
            s(e, "fault")
        );
    }
    println!("next mark: {}   dropped: {}", v["next_mark"], v["dropped"]);
}

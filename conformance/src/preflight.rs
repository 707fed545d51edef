//! The checks before the first scenario: is the target reachable, is its certificate trusted, are
//! the credentials accepted, can the reports be written, and what limits does a running simulator
//! have.
//!
//! Without them a wrong password shows as every scenario failing with a 401 and an untrusted
//! certificate as a raw `UnknownIssuer` in each; one clear error that names the flag or variable to
//! fix is what a person needs. Each check sends one read (`GET /rest/system/resource`, `GET
//! /rest/user/group`), so a preflight changes nothing on the target.

use std::path::Path;

use simulator::Limits;

use crate::cli::{ADMIN_PASSWORD_ENV, PASSWORD_ENV, ReportFile};
use crate::divergences::Divergences;
use crate::rest::Rest;
use crate::target::{Settings, TargetKind};

/// The scenario whose outcome on a simulator depends on its login cache.
pub const LOGIN_CACHE_SCENARIO: &str = "wire::policy_change_waits_for_the_login_cache";

/// A preflight check that failed: one sentence with what to change.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    /// The target did not answer.
    #[error(
        "cannot reach {url} ({detail}): check --target, and that the router's www-ssl service is enabled"
    )]
    Unreachable {
        /// The target's URL.
        url: String,
        /// The transport's own words.
        detail: String,
    },
    /// The certificate is not trusted.
    #[error(
        "the certificate of {url} is not trusted ({detail}): give the CA that signed it with --ca-file FILE, or use --insecure"
    )]
    Untrusted {
        /// The target's URL.
        url: String,
        /// The TLS library's own words.
        detail: String,
    },
    /// A user was refused.
    #[error("{url} refused {who} (HTTP {status}): {fix}")]
    Refused {
        /// The target's URL.
        url: String,
        /// Which user, for people.
        who: String,
        /// The status.
        status: u16,
        /// What to change.
        fix: String,
    },
    /// A report cannot be written.
    #[error("--report {kind} {path}: cannot write there ({detail}); choose another path")]
    Report {
        /// `json` or `junit`.
        kind: &'static str,
        /// The path.
        path: String,
        /// The file system's words.
        detail: String,
    },
}

/// Whether a transport failure is about trusting the certificate (rustls names it so).
fn is_trust_failure(detail: &str) -> bool {
    let d = detail.to_ascii_lowercase();
    [
        "unknownissuer",
        "certificate",
        "notvalidforname",
        "badsignature",
        "expired",
    ]
    .iter()
    .any(|w| d.contains(w))
}

/// One read as `who`; the error names the flag or variable that would fix it.
async fn read_as(
    rest: &Rest,
    url: &str,
    path: &str,
    who: String,
    fix: String,
) -> Result<(), PreflightError> {
    match rest.get(path).await {
        Ok(r) if r.status == 200 => Ok(()),
        Ok(r) => Err(PreflightError::Refused {
            url: url.to_owned(),
            who,
            status: r.status,
            fix,
        }),
        Err(e) if is_trust_failure(&e.0) => Err(PreflightError::Untrusted {
            url: url.to_owned(),
            detail: e.0,
        }),
        Err(e) => Err(PreflightError::Unreachable {
            url: url.to_owned(),
            detail: e.0,
        }),
    }
}

/// The target's checks, with the clients the run will use: the agent's user must read
/// `/system/resource`, the admin (when there is one) must read `/user/group`.
pub async fn target(
    settings: &Settings,
    url: &str,
    agent: &Rest,
    agent_user: &str,
    admin: Option<(&Rest, &str)>,
) -> Result<(), PreflightError> {
    let router = matches!(settings.kind, TargetKind::Router { .. });
    let fix = if router {
        format!(
            "check --user (or ROUTEROS_USERNAME) and {PASSWORD_ENV} (or --password-file), and that the user's group has the api, rest-api and read policies"
        )
    } else {
        format!(
            "the simulator's agent user is --user (or ROUTEROS_USERNAME) with {PASSWORD_ENV} (or --password-file); by default admin/admin"
        )
    };
    read_as(
        agent,
        url,
        "/system/resource",
        format!("the agent's user `{agent_user}`"),
        fix,
    )
    .await?;
    if let Some((admin, name)) = admin {
        read_as(
            admin,
            url,
            "/user/group",
            format!("the admin user `{name}`"),
            format!("check --admin-user (or CONFORMANCE_ADMIN_USER) and {ADMIN_PASSWORD_ENV} (or --admin-password-file)"),
        )
        .await?;
    }
    Ok(())
}

/// Checks that every report can be written: its directory is created and the file opened for
/// writing (it is written in full at the end).
pub fn reports(reports: &[ReportFile]) -> Result<(), PreflightError> {
    for r in reports {
        let (kind, path) = match r {
            ReportFile::Json(p) => ("json", p),
            ReportFile::Junit(p) => ("junit", p),
        };
        let err = |e: std::io::Error| PreflightError::Report {
            kind,
            path: path.display().to_string(),
            detail: e.to_string(),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(Path::new(path))
            .map_err(err)?;
    }
    Ok(())
}

/// A running simulator's limits decide what its known divergences are: with a login cache it
/// caches logins like a router, so the login-cache scenario is expected to pass there and its
/// divergence no longer applies. Returns a line for people when something changed.
pub fn apply_limits(limits: &Limits, divergences: &mut Divergences) -> Option<String> {
    if limits.login_cache.is_zero() {
        return None;
    }
    let before = divergences.entries.len();
    divergences
        .entries
        .retain(|e| !(e.scenario == LOGIN_CACHE_SCENARIO && e.targets == ["simulator"]));
    (divergences.entries.len() < before).then(|| {
        format!(
            "limits: the simulator caches logins for {}s like a router, so {LOGIN_CACHE_SCENARIO} is expected to pass",
            limits.login_cache.as_secs()
        )
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_login_cache_turns_the_divergence_off() {
        let mut d = Divergences::load(None).unwrap();
        assert!(apply_limits(&Limits::default(), &mut d).is_none());
        assert!(d.entries.iter().any(|e| e.scenario == LOGIN_CACHE_SCENARIO));
        let line = apply_limits(&Limits::realistic(), &mut d).unwrap();
        assert!(line.contains("600s"), "{line}");
        assert!(!d.entries.iter().any(|e| e.scenario == LOGIN_CACHE_SCENARIO));
        let limits = Limits {
            login_cache: Duration::from_secs(5),
            ..Limits::default()
        };
        assert!(apply_limits(&limits, &mut d).is_none(), "already removed");
    }

    #[test]
    fn an_unwritable_report_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let bad = ReportFile::Junit(file.join("under-a-file.xml"));
        let e = reports(&[bad]).unwrap_err().to_string();
        assert!(
            e.starts_with("--report junit ") && e.contains("choose another path"),
            "{e}"
        );
        reports(&[ReportFile::Json(dir.path().join("new/dir/r.json"))]).unwrap();
    }

    /// A wrong password and an untrusted certificate are each one error naming what to change.
    async fn wrong_password_and_untrusted_certificate(ctx: &crate::target::Ctx) -> crate::Outcome {
        let url = ctx.live.url.clone();
        let wrong = ctx
            .rest
            .with_credentials(Some(("nobody".into(), "wrong".into())));
        let e = target(&ctx.settings, &url, &wrong, "nobody", None)
            .await
            .unwrap_err()
            .to_string();
        crate::ensure!(
            e.contains("refused the agent's user `nobody` (HTTP 401)")
                && e.contains("ROUTEROS_USERNAME"),
            "{e}"
        );
        let admin = ctx
            .admin()?
            .with_credentials(Some(("admin".into(), "wrong".into())));
        let e = target(
            &ctx.settings,
            &url,
            &ctx.rest,
            "agent",
            Some((&admin, "admin")),
        )
        .await
        .unwrap_err()
        .to_string();
        crate::ensure!(e.contains("CONFORMANCE_ADMIN_PASSWORD"), "{e}");
        let system_roots = Rest::new(
            &url,
            &agent::config::TlsMode::SystemRoots,
            None,
            ctx.rest.guard().clone(),
            None,
        )?;
        let e = target(&ctx.settings, &url, &system_roots, "agent", None)
            .await
            .unwrap_err()
            .to_string();
        crate::ensure!(
            e.contains("is not trusted") && e.contains("--ca-file FILE"),
            "{e}"
        );
        target(
            &ctx.settings,
            &url,
            &ctx.rest,
            "agent",
            Some((ctx.admin()?, "admin")),
        )
        .await
        .map_err(|e| crate::Failure::new(e.to_string()))
    }

    #[test]
    fn credentials_and_trust_are_checked_before_the_run() {
        use crate::target::Cap;
        crate::trials::tests::check(&[Cap::Admin], |ctx| {
            Box::pin(wrong_password_and_untrusted_certificate(ctx))
        })
        .unwrap();
    }

    #[test]
    fn trust_failures_are_told_apart() {
        assert!(is_trust_failure(
            "GET /rest/system/resource: invalid peer certificate: UnknownIssuer"
        ));
        assert!(!is_trust_failure(
            "GET /rest/system/resource: error sending request: Connection refused (os error 111)"
        ));
    }
}

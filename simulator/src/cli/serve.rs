//! `routeros-sim [serve]`: start the simulator as the flags describe, write its CA where clients can
//! read it, print how to reach it, and stop on Ctrl-C.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::CliError;
use super::args::Serve;
use super::print;
use crate::{Identity, Limits, Seed, Simulator};

/// The CA certificate written for clients, and the private directory that holds it when no path
/// was given (removed when the simulator stops).
#[derive(Debug)]
pub(super) struct CaFile {
    /// Where the PEM is.
    pub path: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

/// Writes the CA certificate where clients can read it.
///
/// Without `--ca-out` it goes into a directory this simulator creates for itself, with a random
/// name and mode 0700 (`<temp dir>/routeros-sim-XXXXXX/ca.pem`): another user cannot plant a
/// symlink there, and a second simulator gets a directory of its own instead of overwriting the
/// first one's CA. With `--ca-out` the file is written beside its final name and renamed over it,
/// so a symlink at that name is replaced, never followed.
pub(super) fn write_ca(out: Option<&Path>, pem: &str) -> Result<CaFile, CliError> {
    use std::io::Write;
    match out {
        None => {
            let base = std::env::temp_dir();
            let mut builder = tempfile::Builder::new();
            builder.prefix("routeros-sim-");
            // Only this user may enter the directory (tempfile leaves the mode to the umask).
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                builder.permissions(std::fs::Permissions::from_mode(0o700));
            }
            let dir = builder
                .tempdir_in(&base)
                .map_err(CliError::file("create a directory in", &base))?;
            let path = dir.path().join("ca.pem");
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(CliError::file("create", &path))?;
            file.write_all(pem.as_bytes())
                .map_err(CliError::file("write", &path))?;
            Ok(CaFile {
                path,
                _dir: Some(dir),
            })
        }
        Some(path) => {
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
                _ => PathBuf::from("."),
            };
            std::fs::create_dir_all(&dir).map_err(CliError::file("create", &dir))?;
            let mut tmp = tempfile::Builder::new()
                .prefix(".ca.pem.")
                .tempfile_in(&dir)
                .map_err(CliError::file("create a file in", &dir))?;
            tmp.write_all(pem.as_bytes())
                .map_err(CliError::file("write", path))?;
            // The CA certificate is public: readable by the clients of other users.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = tmp
                    .as_file()
                    .set_permissions(std::fs::Permissions::from_mode(0o644));
            }
            tmp.persist(path)
                .map_err(|e| CliError::file("write", path)(e.error))?;
            Ok(CaFile {
                path: path.to_owned(),
                _dir: None,
            })
        }
    }
}

/// Serves until Ctrl-C.
pub(super) async fn serve(cli: Serve) -> Result<(), CliError> {
    let mut limits = if cli.realistic {
        Limits::realistic()
    } else {
        Limits::default()
    };
    limits.session_limit = Duration::from_secs(cli.session_limit.max(1));
    if let Some(b) = cli.journal_bytes {
        limits.journal_bytes = b;
    }
    if let Some(s) = cli.login_cache {
        limits.login_cache = Duration::from_secs(s);
    }
    limits.modelled_time = cli.modelled_time;
    let control_token = super::args::secret(
        cli.control_token.as_deref(),
        cli.control_token_file.as_deref(),
    )
    .map_err(CliError::Input)?;
    let admin_password = super::args::secret(
        Some(&cli.admin_password),
        cli.admin_password_file.as_deref(),
    )
    .map_err(CliError::Input)?
    .unwrap_or_default();
    let mut builder = Simulator::builder()
        .version(cli.routeros_version)
        .bind(cli.bind)
        .control_bind(cli.control_bind)
        .https_port(cli.https_port)
        .http_port((!cli.no_http).then_some(cli.http_port))
        .control_port(Some(cli.control_port))
        .control_token(control_token)
        .tls_names(cli.tls_names)
        .tls13(cli.tls13)
        .limits(limits)
        .admin_password(Some(&admin_password));
    if let Some(path) = &cli.seed {
        builder = builder.seed(Seed::from_file(path).map_err(CliError::Input)?);
    }
    if let (Some(cert), Some(key)) = (&cli.cert, &cli.key) {
        let identity =
            Identity::from_files(cert, key).map_err(|e| CliError::Input(e.to_string()))?;
        builder = builder.certificate(identity);
    }
    let sim = builder.start().await?;

    let ca = write_ca(cli.ca_out.as_deref(), sim.ca_pem())?;
    print::banner(&sim, &ca.path);

    tokio::signal::ctrl_c().await.map_err(CliError::Signal)?;
    eprintln!("stopping");
    sim.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_simulator_gets_its_own_private_ca_directory() {
        let first = write_ca(None, "first").expect("written");
        let second = write_ca(None, "second").expect("written");
        assert_ne!(first.path, second.path);
        assert_eq!(std::fs::read_to_string(&first.path).unwrap(), "first");
        assert_eq!(std::fs::read_to_string(&second.path).unwrap(), "second");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let dir = first.path.parent().expect("a directory");
            let mode = std::fs::metadata(dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "{mode:o}");
        }
        let dir = first.path.parent().unwrap().to_owned();
        drop(first);
        assert!(!dir.exists(), "the directory goes when the simulator stops");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_at_the_ca_path_is_replaced_not_followed() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let out = dir.path().join("ca.pem");
        std::os::unix::fs::symlink(&victim, &out).unwrap();
        let ca = write_ca(Some(&out), "CA").expect("written");
        assert_eq!(ca.path, out);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert!(!std::fs::symlink_metadata(&out).unwrap().is_symlink());
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "CA");
    }
}

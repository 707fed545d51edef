//! The control API's bearer token: made by the daemon, read by the command line.
//!
//! Why a token and not a Unix socket: the control API must stay reachable from the programs that
//! drive it (a portal's backend, Prometheus, `curl`), most of which speak HTTP over TCP and read
//! credentials from a file (`curl -H @file`, Prometheus' `credentials_file`); a token in a file that
//! only the agent's user may read gives the same protection as a socket with mode 0600, works the
//! same on every platform, and also stops a browser page that reaches loopback (DNS rebinding), which
//! can send requests but never reads the file.
//!
//! The token comes, first found, from `ROUTEROS_AGENT_TOKEN`, from the file given by
//! `--control-token-file` (or `control_token_file`), or else from `<state>.token`, which the daemon
//! writes anew with mode 0600 at every start (a leaked token dies with the daemon that made it).

use std::fs;
use std::io::Write;
use std::path::Path;

use crate::config::{Config, Secret};

/// Bytes of randomness in a token (written as hex: 64 characters).
const TOKEN_BYTES: usize = 32;

/// The daemon's token: given (environment or configured file), or made now and written to
/// `<state>.token` with mode 0600.
pub fn for_daemon(config: &Config) -> Result<Secret, String> {
    if let Some(t) = &config.control_token {
        return Ok(t.clone());
    }
    if let Some(path) = &config.control_token_file {
        return read(path);
    }
    let path = config.token_path();
    let token = Secret::new(random_hex());
    write_private(&path, token.expose()).map_err(|e| {
        format!(
            "cannot write the control API token to {}: {e}",
            path.display()
        )
    })?;
    Ok(token)
}

/// The token a command sends to a running daemon: the environment's, or the token file's.
pub fn for_client(config: &Config) -> Result<Secret, String> {
    match &config.control_token {
        Some(t) => Ok(t.clone()),
        None => read(&config.token_path()),
    }
}

/// Reads a token file: its first line, which must not be empty.
pub fn read(path: &Path) -> Result<Secret, String> {
    let text = fs::read_to_string(path).map_err(|e| {
        format!(
            "cannot read the control API token file {}: {e}",
            path.display()
        )
    })?;
    let line = text.lines().next().unwrap_or("").trim();
    if line.is_empty() {
        return Err(format!(
            "the control API token file {} is empty",
            path.display()
        ));
    }
    Ok(Secret::new(line))
}

pub(crate) fn random_hex() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `text` to `path` readable by its owner only: a temporary file created with mode 0600,
/// then renamed over `path` (which replaces a symbolic link there rather than writing through it).
pub(crate) fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    fs::create_dir_all(&dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "token".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let result = (|| {
        let mut f = options.open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_token_is_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grants.json.token");
        write_private(&path, &random_hex()).unwrap();
        let t = read(&path).unwrap();
        assert_eq!(t.expose().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        fs::write(&path, "\n").unwrap();
        assert!(read(&path).unwrap_err().contains("is empty"));
    }
}

//! The grant store: the agent's grants on disk, so that a restart loses nothing.
//!
//! Every change is written atomically: the whole store goes to a temporary file in the same directory,
//! which is flushed to disk and then renamed over the old file, and the directory is synced so the
//! rename itself survives a power cut. A reader therefore sees either the old or the new store, never
//! half of one, and a grant is acknowledged only after its write returned. A store that cannot be read
//! back (bad JSON, an unknown format version, an invalid address) is an error that names the file:
//! the agent never starts over with an empty store, which would silently revoke everyone.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::address::Address;
use crate::clock::Time;
use crate::plan::Grant;

/// The on-disk format version this agent writes and reads.
const FORMAT: u32 = 1;

/// Why the store could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file exists but is not a store this agent can read.
    #[error(
        "the grant store {path} is damaged ({reason}); the agent will not overwrite it. Repair or move \
         the file away (its grants are then lost) and start again"
    )]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Reading or writing failed.
    #[error("the grant store {path} could not be {action}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// `read` or `written`.
        action: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
}

#[derive(serde::Serialize, serde::Deserialize)]
struct OnDisk {
    format: u32,
    grants: Vec<Grant>,
}

/// Grants, kept in memory and mirrored to one file.
#[derive(Debug)]
pub struct GrantStore {
    path: PathBuf,
    grants: Vec<Grant>,
}

impl GrantStore {
    /// Opens the store at `path`; a missing file is an empty store, a damaged one an error.
    pub fn open(path: impl Into<PathBuf>) -> Result<GrantStore, StoreError> {
        let path = path.into();
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(GrantStore {
                    path,
                    grants: Vec::new(),
                });
            }
            Err(source) => {
                return Err(StoreError::Io {
                    path,
                    action: "read",
                    source,
                });
            }
        };
        let disk: OnDisk = serde_json::from_slice(&bytes).map_err(|e| StoreError::Damaged {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if disk.format != FORMAT {
            return Err(StoreError::Damaged {
                path,
                reason: format!("format {} is not {FORMAT}", disk.format),
            });
        }
        Ok(GrantStore {
            path,
            grants: disk.grants,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All grants, including expired ones not yet pruned.
    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }

    /// Adds a grant, replacing the same user's grant for the same address, and saves.
    pub fn grant(&mut self, grant: Grant) -> Result<(), StoreError> {
        let mut next = self.grants.clone();
        next.retain(|g| !(g.address == grant.address && g.user == grant.user));
        next.push(grant);
        self.replace(next)
    }

    /// Removes a user's grant for an address and saves; whether there was one.
    pub fn revoke(&mut self, address: &Address, user: &str) -> Result<bool, StoreError> {
        let mut next = self.grants.clone();
        next.retain(|g| !(&g.address == address && g.user == user));
        if next.len() == self.grants.len() {
            return Ok(false);
        }
        self.replace(next).map(|()| true)
    }

    /// Drops grants that expired at or before `now` and saves if any did; how many.
    pub fn prune(&mut self, now: Time) -> Result<usize, StoreError> {
        // Most calls find nothing to drop: do not copy the whole store for them.
        if self.grants.iter().all(|g| g.expires > now) {
            return Ok(0);
        }
        let next: Vec<Grant> = self
            .grants
            .iter()
            .filter(|g| g.expires > now)
            .cloned()
            .collect();
        let dropped = self.grants.len() - next.len();
        if dropped > 0 {
            self.replace(next)?;
        }
        Ok(dropped)
    }

    /// Writes `next` and only then makes it the in-memory state, so memory never runs ahead of disk.
    fn replace(&mut self, mut next: Vec<Grant>) -> Result<(), StoreError> {
        next.sort_by(|a, b| (&a.address, &a.user).cmp(&(&b.address, &b.user)));
        let disk = OnDisk {
            format: FORMAT,
            grants: next,
        };
        let bytes = serde_json::to_vec_pretty(&disk).expect("grants serialise");
        write_atomically(&self.path, &bytes).map_err(|source| StoreError::Io {
            path: self.path.clone(),
            action: "written",
            source,
        })?;
        self.grants = disk.grants;
        Ok(())
    }
}

/// Temporary file, write, fsync, rename, fsync of the directory.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "grants".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.flush()?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        // The rename is durable only once the directory entry is on disk (not possible on Windows).
        #[cfg(unix)]
        fs::File::open(&dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh directory under the system's temporary directory, removed on drop.
    #[derive(Debug)]
    pub(crate) struct TempDir(pub PathBuf);

    impl TempDir {
        pub(crate) fn new() -> Self {
            static N: AtomicUsize = AtomicUsize::new(0);
            let p = std::env::temp_dir().join(format!(
                "agent-test-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ));
            let _ = fs::remove_dir_all(&p);
            fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn g(a: &str, user: &str, expires: u64) -> Grant {
        Grant {
            address: Address::parse(a).unwrap(),
            user: user.into(),
            expires: Time(expires),
        }
    }

    #[test]
    fn missing_file_is_empty_and_changes_survive_reopening() {
        let dir = TempDir::new();
        let path = dir.0.join("sub/grants.json");
        let mut s = GrantStore::open(&path).unwrap();
        assert!(s.grants().is_empty());
        s.grant(g("192.0.2.1", "ann", 10)).unwrap();
        s.grant(g("192.0.2.1", "bob", 20)).unwrap();
        s.grant(g("192.0.2.1/32", "ann", 30)).unwrap(); // replaces ann's grant
        assert_eq!(
            GrantStore::open(&path).unwrap().grants(),
            &[g("192.0.2.1", "ann", 30), g("192.0.2.1", "bob", 20)]
        );
        assert!(
            s.revoke(&Address::parse("192.0.2.1").unwrap(), "bob")
                .unwrap()
        );
        assert!(
            !s.revoke(&Address::parse("192.0.2.1").unwrap(), "bob")
                .unwrap()
        );
        assert_eq!(s.prune(Time(30)).unwrap(), 1);
        assert!(GrantStore::open(&path).unwrap().grants().is_empty());
        // No temporary file is left behind.
        let names: Vec<_> = fs::read_dir(dir.0.join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("grants.json")]);
    }

    #[test]
    fn damaged_files_are_errors_not_resets() {
        let dir = TempDir::new();
        let path = dir.0.join("grants.json");
        for bad in [
            "",
            "{",
            "[]",
            r#"{"format":2,"grants":[]}"#,
            r#"{"format":1,"grants":[{"address":"nope","user":"a","expires":1}]}"#,
        ] {
            fs::write(&path, bad).unwrap();
            let err = GrantStore::open(&path).unwrap_err();
            assert!(matches!(err, StoreError::Damaged { .. }), "{bad:?}: {err}");
            assert!(err.to_string().contains("grants.json"), "{err}");
            // The damaged file is still there, untouched.
            assert_eq!(fs::read_to_string(&path).unwrap(), bad);
        }
    }

    #[test]
    fn a_failed_write_keeps_the_previous_state() {
        let dir = TempDir::new();
        let path = dir.0.join("grants.json");
        let mut s = GrantStore::open(&path).unwrap();
        s.grant(g("192.0.2.1", "ann", 10)).unwrap();
        // Make the target a directory: the rename fails and memory must not run ahead of disk.
        fs::remove_file(&path).unwrap();
        fs::create_dir(&path).unwrap();
        assert!(s.grant(g("192.0.2.2", "bob", 10)).is_err());
        assert_eq!(s.grants(), &[g("192.0.2.1", "ann", 10)]);
    }
}

//! The grant store: the agent's grants on disk, so that a restart loses nothing.
//!
//! Every change is written atomically: the whole store goes to a temporary file in the same directory,
//! which is flushed to disk and then renamed over the old file, and the directory is synced so the
//! rename itself survives a power cut. A reader therefore sees either the old or the new store, never
//! half of one, and a grant is acknowledged only after its write returned. A store that cannot be read
//! back (bad JSON, an unknown format version, an invalid address) is an error that names the file:
//! the agent never starts over with an empty store, which would silently revoke everyone.
//!
//! Every process changes the store by reading it, changing it in memory and writing it back, so two
//! processes working at once would each write back a store without the other's change: the last
//! writer wins and an acknowledged grant is lost (and its router entry removed by the loser's
//! reconcile). An opened [`GrantStore`] therefore holds an exclusive lock on `<state>.lock`, taken
//! before the store is read and released when the `GrantStore` is dropped. One-shot commands hold it
//! for the whole command, reconcile included, and queue behind each other for a bounded time; the
//! daemon holds it for its whole life and writes who it is into the lock file, so that a command
//! which finds it there fails at once and points at the daemon's control API instead of waiting for
//! a lock that will not come free. [`GrantStore::load`] reads without the lock (a reader sees whole
//! stores only, thanks to the atomic rename), for `list` and for tests.
//!
//! The file keeps its permissions across writes (a store made 0600 stays 0600); a new store is
//! created with mode 0600, as it names people and their addresses. A store path that is a symbolic
//! link is refused rather than followed or replaced: a link planted in a shared directory would
//! otherwise redirect the agent's writes, and replacing it would silently split the store in two.
//! Temporary files that a killed process left beside the store are removed at the next write (the
//! writer holds the lock, so no other writer can be using them).

use std::fs;
use std::io::{Seek, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

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
    /// Reading, writing or locking failed.
    #[error("the grant store {path} could not be {action}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// `read`, `written` or `locked`.
        action: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The running daemon holds the store; grants must go through its control API, or the daemon
    /// would write its own copy of the store over them.
    #[error(
        "the grant store {path} is held by the running daemon (pid {pid}); send the change to its \
         control API instead (`routeros-agent grant`, `revoke` and `sync` do so by themselves): POST \
         http://{control}/v1/grants with `Authorization: Bearer <token>` (the token is in \
         <state>.token) and {{\"address\":\"...\",\"user\":\"...\",\"for\":\"1h\"}} (revoke: POST \
         http://{control}/v1/revoke, sync: POST http://{control}/v1/sync), or stop the daemon first"
    )]
    HeldByDaemon {
        /// The store.
        path: PathBuf,
        /// The daemon's control API address, as it wrote it into the lock file.
        control: String,
        /// The daemon's process id.
        pid: String,
    },
    /// The store's path is a symbolic link, which the agent neither follows nor replaces.
    #[error(
        "the grant store {path} is a symbolic link; the agent refuses it (a link could send its \
         writes elsewhere): give the real file's path with --state (or `state` in the configuration)"
    )]
    Symlink {
        /// The store.
        path: PathBuf,
    },
    /// Another command kept the store locked for longer than the wait allows.
    #[error(
        "the grant store {path} is still in use by {holder} after {waited_s} s; run the command again \
         when it has finished"
    )]
    Busy {
        /// The store.
        path: PathBuf,
        /// Who holds it, as the lock file says (`another command (pid 1234)`).
        holder: String,
        /// How long this process waited.
        waited_s: u64,
    },
}

/// Who holds the store's lock; written into the lock file for whoever finds the lock taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// A one-shot command (`grant`, `revoke`, `sync`): others wait for it to finish.
    Cli,
    /// The daemon, which holds the store for its whole life; changes go through its control API.
    Daemon {
        /// Where the control API listens.
        control: SocketAddr,
    },
}

impl Holder {
    /// How long this holder waits for the lock before giving up. A command waits for the commands
    /// ahead of it (each one reconcile); a starting daemon waits longer, as a command's reconcile
    /// against a slow router may take a while and a daemon that gave up would need a restart.
    pub fn default_wait(self) -> Duration {
        match self {
            Holder::Cli => CLI_LOCK_WAIT,
            Holder::Daemon { .. } => DAEMON_LOCK_WAIT,
        }
    }

    /// The lock file's line: `cli pid 1234` or `daemon 127.0.0.1:7878 pid 1234`.
    fn line(self) -> String {
        let pid = std::process::id();
        match self {
            Holder::Cli => format!("cli pid {pid}\n"),
            Holder::Daemon { control } => format!("daemon {control} pid {pid}\n"),
        }
    }
}

/// How long a command waits for the store's lock.
pub const CLI_LOCK_WAIT: Duration = Duration::from_secs(10);
/// How long a starting daemon waits for the store's lock.
pub const DAEMON_LOCK_WAIT: Duration = Duration::from_secs(120);

/// What the lock file says about its holder.
enum Seen {
    Daemon { control: String, pid: String },
    Other(String),
}

fn parse_holder(text: &str) -> Seen {
    let words: Vec<&str> = text.split_whitespace().collect();
    match words.as_slice() {
        ["daemon", control, "pid", pid] => Seen::Daemon {
            control: (*control).to_owned(),
            pid: (*pid).to_owned(),
        },
        ["cli", "pid", pid] => Seen::Other(format!("another command (pid {pid})")),
        // Empty: the holder has just taken the lock and not yet written its line, or is releasing it.
        _ => Seen::Other("another process".into()),
    }
}

/// The exclusive lock on `<state>.lock`, held while it lives. The lock file itself stays: removing
/// it would let a waiter lock a file that another process is about to replace with a new one.
#[derive(Debug)]
struct StoreLock {
    file: fs::File,
}

impl StoreLock {
    /// Takes the lock, polling for at most `wait`; fails at once when a daemon holds it.
    fn acquire(store: &Path, holder: Holder, wait: Duration) -> Result<StoreLock, StoreError> {
        let path = lock_path(store);
        let io = |source| StoreError::Io {
            path: path.clone(),
            action: "locked",
            source,
        };
        fs::create_dir_all(parent_dir(&path)).map_err(io)?;
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        let started = Instant::now();
        let mut pause = Duration::from_millis(5);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) => {}
                Err(fs::TryLockError::Error(e)) => return Err(io(e)),
            }
            // An unreadable file reads as an unknown holder: keep waiting, within the bound.
            let text = fs::read_to_string(&path).unwrap_or_default();
            let holder = match parse_holder(&text) {
                // The daemon never lets go while it runs: waiting would only delay the same answer.
                Seen::Daemon { control, pid } => {
                    return Err(StoreError::HeldByDaemon {
                        path: store.to_path_buf(),
                        control,
                        pid,
                    });
                }
                Seen::Other(holder) => holder,
            };
            let waited = started.elapsed();
            if waited >= wait {
                return Err(StoreError::Busy {
                    path: store.to_path_buf(),
                    holder,
                    waited_s: waited.as_secs(),
                });
            }
            std::thread::sleep(pause.min(wait - waited));
            pause = (pause * 2).min(Duration::from_millis(100));
        }
        // Say who holds it, for the next process that finds it taken.
        let said = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(holder.line().as_bytes()))
            .and_then(|()| file.flush());
        if let Err(e) = said {
            return Err(io(e));
        }
        Ok(StoreLock { file })
    }
}

impl Drop for StoreLock {
    fn drop(&mut self) {
        // Clear the holder line first, so that a stale `daemon ...` never outlives the daemon's lock
        // and sends a command away while nobody holds the store. Closing the file releases the lock
        // anyway; unlocking explicitly just makes the order plain.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// `<state>.lock`, next to the store.
pub fn lock_path(store: &Path) -> PathBuf {
    let mut name = store
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "grants".into());
    name.push(".lock");
    store.with_file_name(name)
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct OnDisk {
    format: u32,
    grants: Vec<Grant>,
}

/// Grants, kept in memory and mirrored to one file, which this process holds locked while the
/// `GrantStore` lives.
#[derive(Debug)]
pub struct GrantStore {
    path: PathBuf,
    grants: Vec<Grant>,
    /// Released on drop.
    _lock: StoreLock,
}

impl GrantStore {
    /// Opens the store at `path` for a one-shot command: takes its lock (waiting up to
    /// [`CLI_LOCK_WAIT`] for other commands), then reads it. A missing file is an empty store, a
    /// damaged one an error. Blocks the thread while it waits: async code uses [`Self::open_async`].
    pub fn open(path: impl Into<PathBuf>) -> Result<GrantStore, StoreError> {
        Self::open_locked(path, Holder::Cli, CLI_LOCK_WAIT)
    }

    /// Opens the store as `holder`, waiting at most `wait` for the lock (not at all for a daemon).
    pub fn open_locked(
        path: impl Into<PathBuf>,
        holder: Holder,
        wait: Duration,
    ) -> Result<GrantStore, StoreError> {
        let path = path.into();
        // The lock comes before the read: a store read before it could be stale by the time we write.
        let lock = StoreLock::acquire(&path, holder, wait)?;
        let grants = Self::load(&path)?;
        Ok(GrantStore {
            path,
            grants,
            _lock: lock,
        })
    }

    /// [`Self::open_locked`] with the holder's default wait, on a blocking thread so that waiting
    /// for the lock does not stall the async runtime (whose tasks may be the ones holding it).
    pub async fn open_async(path: PathBuf, holder: Holder) -> Result<GrantStore, StoreError> {
        let for_error = path.clone();
        tokio::task::spawn_blocking(move || Self::open_locked(path, holder, holder.default_wait()))
            .await
            .unwrap_or_else(|e| {
                Err(StoreError::Io {
                    path: for_error,
                    action: "locked",
                    source: std::io::Error::other(e.to_string()),
                })
            })
    }

    /// The grants on disk, read without the lock: for reading only (`list`, tests). Writes are atomic
    /// renames, so this sees one whole store, never half of one; it may of course be outdated a
    /// moment later.
    pub fn load(path: impl AsRef<Path>) -> Result<Vec<Grant>, StoreError> {
        let path = path.as_ref();
        if is_symlink(path) {
            return Err(StoreError::Symlink {
                path: path.to_path_buf(),
            });
        }
        let bytes = match fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(StoreError::Io {
                    path: path.to_path_buf(),
                    action: "read",
                    source,
                });
            }
        };
        let disk: OnDisk = serde_json::from_slice(&bytes).map_err(|e| StoreError::Damaged {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        if disk.format != FORMAT {
            return Err(StoreError::Damaged {
                path: path.to_path_buf(),
                reason: format!("format {} is not {FORMAT}", disk.format),
            });
        }
        Ok(disk.grants)
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
        if is_symlink(&self.path) {
            return Err(StoreError::Symlink {
                path: self.path.clone(),
            });
        }
        write_atomically(&self.path, &bytes).map_err(|source| StoreError::Io {
            path: self.path.clone(),
            action: "written",
            source,
        })?;
        self.grants = disk.grants;
        Ok(())
    }
}

fn is_symlink(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Temporary file (with the store's permissions, 0600 for a new store), write, fsync, rename,
/// fsync of the directory. Leftover temporary files of this store are removed first.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = parent_dir(path);
    fs::create_dir_all(&dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "grants".into());
    // Left by a process killed between creating and renaming its file. The caller holds the lock,
    // so none of these belongs to a writer still at work.
    let prefix = format!(".{name}.tmp-");
    if let Ok(entries) = fs::read_dir(&dir) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
    let permissions = fs::metadata(path).ok().map(|m| m.permissions());
    // Unique per write, not only per process: two handles in one process must not share a file.
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let tmp = dir.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        WRITES.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp)?;
        if let Some(p) = &permissions {
            f.set_permissions(p.clone())?;
        }
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
mod tests {
    use super::*;

    fn g(a: &str, user: &str, expires: u64) -> Grant {
        Grant {
            address: Address::parse(a).unwrap(),
            user: user.into(),
            expires: Time(expires),
        }
    }

    #[test]
    fn missing_file_is_empty_and_changes_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/grants.json");
        let mut s = GrantStore::open(&path).unwrap();
        assert!(s.grants().is_empty());
        s.grant(g("192.0.2.1", "ann", 10)).unwrap();
        s.grant(g("192.0.2.1", "bob", 20)).unwrap();
        s.grant(g("192.0.2.1/32", "ann", 30)).unwrap(); // replaces ann's grant
        // `s` still holds the lock: read the file without it.
        assert_eq!(
            GrantStore::load(&path).unwrap(),
            vec![g("192.0.2.1", "ann", 30), g("192.0.2.1", "bob", 20)]
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
        drop(s);
        assert!(GrantStore::open(&path).unwrap().grants().is_empty());
        // No temporary file is left behind; the lock file stays, empty once nobody holds it.
        let mut names: Vec<_> = fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(
            names,
            vec![
                std::ffi::OsString::from("grants.json"),
                std::ffi::OsString::from("grants.json.lock")
            ]
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("sub/grants.json.lock")).unwrap(),
            ""
        );
    }

    #[test]
    fn a_second_handle_waits_for_the_first_and_sees_its_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grants.json");
        let mut first = GrantStore::open(&path).unwrap();
        assert_eq!(
            fs::read_to_string(lock_path(&path)).unwrap(),
            format!("cli pid {}\n", std::process::id())
        );
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = {
            let path = path.clone();
            std::thread::spawn(move || {
                tx.send(()).unwrap();
                GrantStore::open(&path).map(|s| s.grants().to_vec())
            })
        };
        rx.recv().unwrap();
        // The waiter read nothing yet: this grant, written while it waits, must be in what it reads.
        first.grant(g("192.0.2.1", "ann", 10)).unwrap();
        drop(first);
        assert_eq!(
            waiter.join().unwrap().unwrap(),
            vec![g("192.0.2.1", "ann", 10)]
        );
    }

    #[test]
    fn a_command_gives_up_after_its_wait_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grants.json");
        let _held = GrantStore::open(&path).unwrap();
        let started = Instant::now();
        let err =
            GrantStore::open_locked(&path, Holder::Cli, Duration::from_millis(50)).unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert!(matches!(err, StoreError::Busy { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains(&format!("another command (pid {})", std::process::id())),
            "{text}"
        );
    }

    #[test]
    fn a_daemon_holder_sends_commands_to_its_control_api_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grants.json");
        let control: SocketAddr = "127.0.0.1:7999".parse().unwrap();
        let daemon =
            GrantStore::open_locked(&path, Holder::Daemon { control }, Duration::ZERO).unwrap();
        let started = Instant::now();
        // Even with a long wait, the command does not wait for a daemon.
        let err = GrantStore::open_locked(&path, Holder::Cli, Duration::from_secs(30)).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(matches!(err, StoreError::HeldByDaemon { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("POST http://127.0.0.1:7999/v1/grants")
                && text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
        // A second daemon is refused the same way; reading stays possible.
        assert!(matches!(
            GrantStore::open_locked(&path, Holder::Daemon { control }, Duration::from_secs(30)),
            Err(StoreError::HeldByDaemon { .. })
        ));
        assert!(GrantStore::load(&path).unwrap().is_empty());
        drop(daemon);
        // Released with the handle, and the stale holder line with it.
        GrantStore::open_locked(&path, Holder::Cli, Duration::ZERO).unwrap();
    }

    #[test]
    fn damaged_files_are_errors_not_resets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grants.json");
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

    #[cfg(unix)]
    #[test]
    fn the_files_mode_survives_writes_and_new_stores_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grants.json");
        let mut s = GrantStore::open(&path).unwrap();
        s.grant(g("192.0.2.1", "ann", 10)).unwrap();
        assert_eq!(mode(&path), 0o600);
        for wanted in [0o600, 0o640] {
            fs::set_permissions(&path, fs::Permissions::from_mode(wanted)).unwrap();
            s.grant(g("192.0.2.2", "bob", 10)).unwrap();
            assert_eq!(mode(&path), wanted);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_store_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        fs::write(&real, r#"{"format":1,"grants":[]}"#).unwrap();
        let link = dir.path().join("grants.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let err = GrantStore::open(&link).unwrap_err();
        assert!(matches!(err, StoreError::Symlink { .. }), "{err}");
        assert!(err.to_string().contains("--state"), "{err}");
        assert!(GrantStore::load(&link).is_err());
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            fs::read_to_string(&real).unwrap(),
            r#"{"format":1,"grants":[]}"#
        );
    }

    #[test]
    fn temporary_files_of_a_killed_writer_are_removed_at_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grants.json");
        let left = dir.path().join(".grants.json.tmp-999999-3");
        fs::write(&left, "half a store").unwrap();
        let other = dir.path().join(".other.json.tmp-999999-3");
        fs::write(&other, "not ours").unwrap();
        let mut s = GrantStore::open(&path).unwrap();
        s.grant(g("192.0.2.1", "ann", 10)).unwrap();
        assert!(!left.exists());
        assert!(other.exists());
    }

    #[test]
    fn a_failed_write_keeps_the_previous_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grants.json");
        let mut s = GrantStore::open(&path).unwrap();
        s.grant(g("192.0.2.1", "ann", 10)).unwrap();
        // Make the target a directory: the rename fails and memory must not run ahead of disk.
        fs::remove_file(&path).unwrap();
        fs::create_dir(&path).unwrap();
        assert!(s.grant(g("192.0.2.2", "bob", 10)).is_err());
        assert_eq!(s.grants(), &[g("192.0.2.1", "ann", 10)]);
    }
}

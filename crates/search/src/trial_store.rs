//! The SQLite trial store: every finished trial, written as it finishes.

use crate::error::{Result, SearchError};
use crate::measurement::{Trial, TrialOutcome};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};

/// A durable record of a search's trials.
///
/// Each trial is committed in its own transaction (WAL journal, `synchronous =
/// FULL`), so a process killed at any moment loses at most the trial it was
/// evaluating. The store also keeps the settings that identify its search; it
/// refuses to serve another search ([`SearchError::StoreMismatch`]).
pub struct TrialStore {
    connection: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for TrialStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrialStore")
            .field("path", &self.path)
            .finish()
    }
}

impl TrialStore {
    /// Opens (or creates) the store at `path` for the search identified by `search_key`.
    ///
    /// # Errors
    /// [`SearchError::StoreMismatch`] when the file holds another search;
    /// [`SearchError::Store`] when SQLite fails (e.g. the file is not a database).
    pub fn open(path: &Path, search_key: &str) -> Result<Self> {
        Self::open_migrating(path, search_key, &[])
    }

    /// Opens (or creates) the store at `path` for the search identified by
    /// `search_key`, also accepting a store that recorded one of `former_keys`
    /// (the same search's key in an earlier version's form): its key is
    /// rewritten to `search_key`, so later opens need only the new form.
    ///
    /// # Errors
    /// As [`TrialStore::open`].
    pub fn open_migrating(path: &Path, search_key: &str, former_keys: &[String]) -> Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| SearchError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let connection = Connection::open(path).map_err(|e| store_error(path, e))?;
        Self::init(connection, path.to_path_buf(), search_key, former_keys)
    }

    /// A store in memory (for tests and throw-away searches).
    ///
    /// # Errors
    /// [`SearchError::Store`] when SQLite fails.
    pub fn in_memory(search_key: &str) -> Result<Self> {
        let path = PathBuf::from(":memory:");
        let connection = Connection::open_in_memory().map_err(|e| store_error(&path, e))?;
        Self::init(connection, path, search_key, &[])
    }

    fn init(
        connection: Connection,
        path: PathBuf,
        search_key: &str,
        former_keys: &[String],
    ) -> Result<Self> {
        let fail = |e: rusqlite::Error| store_error(&path, e);
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(fail)?;
        connection
            .pragma_update(None, "synchronous", "FULL")
            .map_err(fail)?;
        connection
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS search (key TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS trials (
                     idx INTEGER PRIMARY KEY,
                     architecture TEXT NOT NULL,
                     canonical_hash TEXT NOT NULL,
                     status TEXT NOT NULL,
                     objective REAL,
                     report REAL,
                     seconds REAL NOT NULL,
                     outcome TEXT NOT NULL,
                     finished_at REAL NOT NULL
                 );",
            )
            .map_err(fail)?;
        let stored: Option<String> = connection
            .query_row("SELECT key FROM search LIMIT 1", [], |row| row.get(0))
            .optional()
            .map_err(fail)?;
        match stored {
            Some(stored) if former_keys.contains(&stored) => {
                connection
                    .execute("UPDATE search SET key = ?1", params![search_key])
                    .map_err(fail)?;
            }
            Some(stored) if stored != search_key => {
                return Err(SearchError::StoreMismatch {
                    path,
                    stored,
                    requested: search_key.to_string(),
                });
            }
            Some(_) => {}
            None => {
                connection
                    .execute("INSERT INTO search (key) VALUES (?1)", params![search_key])
                    .map_err(fail)?;
            }
        }
        Ok(Self { connection, path })
    }

    /// The file (or `:memory:`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every stored trial, in query order.
    ///
    /// # Errors
    /// [`SearchError::Store`] when SQLite fails or a row is damaged.
    pub fn trials(&self) -> Result<Vec<Trial>> {
        let fail = |e: rusqlite::Error| store_error(&self.path, e);
        let mut statement = self
            .connection
            .prepare("SELECT idx, architecture, canonical_hash, outcome, seconds FROM trials ORDER BY idx")
            .map_err(fail)?;
        let rows = statement
            .query_map([], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, f64>(4)?,
                ))
            })
            .map_err(fail)?;
        let mut trials = Vec::new();
        for row in rows {
            let (index, architecture, canonical_hash, outcome, seconds) = row.map_err(fail)?;
            let outcome: TrialOutcome =
                serde_json::from_str(&outcome).map_err(|e| SearchError::Store {
                    path: self.path.clone(),
                    message: format!("trial {index}: damaged outcome: {e}"),
                })?;
            if index as usize != trials.len() {
                return Err(SearchError::Store {
                    path: self.path.clone(),
                    message: format!("trial {} is missing", trials.len()),
                });
            }
            trials.push(Trial {
                index: index as usize,
                architecture,
                canonical_hash,
                outcome,
                seconds,
            });
        }
        Ok(trials)
    }

    /// Commits one finished trial. A trial index can be written only once.
    ///
    /// # Errors
    /// [`SearchError::Store`] when SQLite fails or the index is already stored.
    pub fn append(&mut self, trial: &Trial) -> Result<()> {
        let (status, objective, report) = match &trial.outcome {
            TrialOutcome::Finished(m) => ("finished", Some(m.objective), m.report),
            TrialOutcome::Failed { .. } => ("failed", None, None),
        };
        let outcome = serde_json::to_string(&trial.outcome).map_err(|e| SearchError::Store {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let tx = self
            .connection
            .transaction()
            .map_err(|e| store_error(&self.path, e))?;
        tx.execute(
            "INSERT INTO trials (idx, architecture, canonical_hash, status, objective, report, seconds, outcome, finished_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                trial.index as i64,
                trial.architecture,
                trial.canonical_hash,
                status,
                objective,
                report,
                trial.seconds,
                outcome,
                now
            ],
        )
        .map_err(|e| store_error(&self.path, e))?;
        tx.commit().map_err(|e| store_error(&self.path, e))
    }
}

fn store_error(path: &Path, e: rusqlite::Error) -> SearchError {
    SearchError::Store {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measurement::Measurement;

    fn trial(index: usize, objective: f64) -> Trial {
        Trial {
            index,
            architecture: format!("arch-{index}"),
            canonical_hash: format!("{index:016x}"),
            outcome: TrialOutcome::Finished(Measurement::of(objective)),
            seconds: 0.5,
        }
    }

    #[test]
    fn trials_round_trip_and_indices_are_unique() {
        let dir = std::env::temp_dir().join(format!("metanas-store-{}", std::process::id()));
        let path = dir.join("trials.sqlite");
        std::fs::remove_dir_all(&dir).ok();
        {
            let mut store = TrialStore::open(&path, "search A").expect("opens");
            store.append(&trial(0, 1.0)).expect("appends");
            store
                .append(&Trial {
                    outcome: TrialOutcome::Failed {
                        error: "diverged".into(),
                    },
                    ..trial(1, 0.0)
                })
                .expect("appends");
            assert!(
                store.append(&trial(1, 2.0)).is_err(),
                "a trial is written once"
            );
        }
        let store = TrialStore::open(&path, "search A").expect("reopens");
        let trials = store.trials().expect("reads");
        assert_eq!(trials.len(), 2);
        assert_eq!(trials[0], trial(0, 1.0));
        assert!(matches!(trials[1].outcome, TrialOutcome::Failed { .. }));
        assert!(matches!(
            TrialStore::open(&path, "search B"),
            Err(SearchError::StoreMismatch { .. })
        ));
        std::fs::write(
            dir.join("junk.sqlite"),
            b"this is not a database, just some bytes....",
        )
        .expect("writes");
        assert!(matches!(
            TrialStore::open(&dir.join("junk.sqlite"), "search A"),
            Err(SearchError::Store { .. })
        ));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_former_key_is_accepted_once_and_rewritten() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("trials.sqlite");
        {
            let mut store = TrialStore::open(&path, "task=table /old/place/t.csv").expect("opens");
            store.append(&trial(0, 1.0)).expect("appends");
        }
        // Another former form than the stored one: refused as before.
        assert!(matches!(
            TrialStore::open_migrating(&path, "task=t.csv#1", &["task=table /x/t.csv".into()]),
            Err(SearchError::StoreMismatch { .. })
        ));
        let store = TrialStore::open_migrating(
            &path,
            "task=t.csv#1",
            &["task=table /old/place/t.csv".into()],
        )
        .expect("the stored key is a former form of this search's");
        assert_eq!(store.trials().expect("reads"), vec![trial(0, 1.0)]);
        drop(store);
        // Rewritten: the new key alone opens it now, the old one no longer does.
        assert_eq!(
            TrialStore::open(&path, "task=t.csv#1")
                .expect("reopens")
                .trials()
                .expect("reads")
                .len(),
            1
        );
        assert!(matches!(
            TrialStore::open(&path, "task=table /old/place/t.csv"),
            Err(SearchError::StoreMismatch { .. })
        ));
    }
}

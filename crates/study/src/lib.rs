//! # metanas-study
//!
//! One search, many workers: a study's trials live in a PostgreSQL database,
//! and every worker (`cargo xtask search --storage postgres://… --study NAME`,
//! on any machine) runs the same [`StudyWorker`] loop against it.
//!
//! * [`PostgresStudy`]: the schema (created and versioned by the program),
//!   one study per search and its settings key, trial states waiting →
//!   running → complete | failed, claims with `FOR UPDATE SKIP LOCKED`,
//!   heartbeat leases on the server's clock, results written only by the lease
//!   holder, canonical hashes unique per study, and the final-stage lock.
//! * [`StudyWorker`]: claim, evaluate, propose (one proposer at a time, by an
//!   advisory lock; each proposal's draw comes from the search seed and the
//!   trial number), stop at the budget.
//! * `PostgresStudy` is also a [`metanas_search::TrialStorage`] (as the SQLite
//!   `TrialStore` is): one process can run the sequential `Searcher`, with its
//!   exact resume, against PostgreSQL.
//! * [`StudyStatus`]: what `cargo xtask study` prints.
//! * [`ReconnectingClient`]: connections that come back with backoff after a
//!   server restart.

mod connection;
mod error;
mod postgres_study;
mod schema;
mod sequential_storage;
mod status;
#[doc(hidden)]
pub mod test_server;
mod worker;

pub use connection::{Reconnect, ReconnectingClient, StudyAddress};
pub use error::{Result, StudyError};
pub use postgres_study::{
    Claim, ExpiredLease, FinalTurn, Heartbeat, PostgresStudy, StoredTrial, StudyCounts,
    StudySettings, TrialState, host_name,
};
pub use schema::SCHEMA_VERSION;
pub use status::{StudyStatus, WorkerStatus};
pub use worker::{StudyWorker, WorkerEnd, WorkerEvent, evaluation_seed, proposal_seed};

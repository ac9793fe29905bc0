//! Tests against a real PostgreSQL server (METANAS_TEST_POSTGRES; `.ci/run`
//! starts a throwaway one with `.ci/test-postgres.sh`): one test binary, so
//! that the workspace links one more large executable, not five.
//!
//! Each test uses a database of its own, so they run in parallel. Without the
//! variable they print a line and pass, except under CI (`CI` set), where they fail.

mod bad_input;
mod common;
mod sequential_storage;
mod server_restart;
mod workers;

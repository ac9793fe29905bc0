//! The PostgreSQL server that tests run against (this crate's and the
//! command line's): `.ci/run` starts a throwaway one and exports its address.

/// The environment variable that holds the test server's address.
pub const TEST_SERVER_VARIABLE: &str = "METANAS_TEST_POSTGRES";

/// The test server's URL (`METANAS_TEST_POSTGRES`), or `None` with a printed
/// line when it is not set; under CI (`CI` set) a missing server fails the test.
///
/// # Panics
/// When `CI` is set and the variable is not: the tests must not pass unrun.
pub fn test_server() -> Option<String> {
    match std::env::var(TEST_SERVER_VARIABLE) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "METANAS_TEST_POSTGRES is not set under CI: .ci/run starts a PostgreSQL cluster and exports it"
            );
            eprintln!(
                "SKIPPED: METANAS_TEST_POSTGRES is not set (start a throwaway server with `source .ci/test-postgres.sh && start_test_postgres`)"
            );
            None
        }
    }
}

//! Connections to the study's PostgreSQL server: the address, typed login
//! errors, and reconnection with backoff when the server goes away.

use crate::error::{Result, StudyError};
use postgres::error::SqlState;
use postgres::{Client, NoTls};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// Where a study lives: a PostgreSQL URL, `postgres://USER[:PASSWORD]@HOST:PORT/DATABASE`.
#[derive(Clone)]
pub struct StudyAddress {
    config: postgres::Config,
    shown: String,
}

impl std::fmt::Debug for StudyAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl std::fmt::Display for StudyAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl StudyAddress {
    /// Parses a `postgres://` (or `postgresql://`) URL.
    ///
    /// # Errors
    /// [`StudyError::BadAddress`] for anything else.
    pub fn parse(url: &str) -> Result<Self> {
        let hidden = hide_password(url);
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StudyError::BadAddress {
                given: hidden,
                reason: "it does not start with postgres://".into(),
            });
        }
        let mut config = postgres::Config::from_str(url).map_err(|e| StudyError::BadAddress {
            given: hidden.clone(),
            reason: e.to_string(),
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        config.application_name("metanas");
        Ok(Self {
            config,
            shown: hidden,
        })
    }

    /// Connects once.
    ///
    /// # Errors
    /// [`StudyError::Unreachable`] when no server answers, [`StudyError::LoginRefused`]
    /// for a refused user or password, [`StudyError::Database`] otherwise.
    pub fn connect(&self) -> Result<Client> {
        self.config
            .connect(NoTls)
            .map_err(|e| self.connect_error(&e))
    }

    fn connect_error(&self, e: &postgres::Error) -> StudyError {
        let server = self.shown.clone();
        match e.code() {
            Some(code)
                if *code == SqlState::INVALID_PASSWORD
                    || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
            {
                StudyError::LoginRefused {
                    server,
                    reason: db_message(e),
                }
            }
            Some(code) if *code == SqlState::INVALID_CATALOG_NAME => StudyError::Database {
                server,
                message: format!("{}: create the database first (createdb)", db_message(e)),
            },
            Some(_) if !is_connection_lost(e) => StudyError::Database {
                server,
                message: db_message(e),
            },
            _ => StudyError::Unreachable {
                server,
                reason: full_message(e),
            },
        }
    }

    /// A database error of this server.
    pub(crate) fn error(&self, e: &postgres::Error) -> StudyError {
        StudyError::Database {
            server: self.shown.clone(),
            message: db_message(e),
        }
    }
}

/// `url` with its password replaced by `***`.
fn hide_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((user_info, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match user_info.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// The server's message when it sent one, else the client's.
fn db_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => full_message(e),
    }
}

/// The error and its causes, e.g. `error connecting to server: Connection refused`.
fn full_message(e: &postgres::Error) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// Whether the error means the connection is gone (server restarted, network
/// lost) rather than a refused statement: such an operation is retried on a new
/// connection.
pub(crate) fn is_connection_lost(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        // No server code: an I/O error of the client.
        None => true,
        Some(code) => {
            let class = &code.code()[..2];
            // 08: connection exception; 57P: operator intervention (shutdown, restart).
            class == "08" || code.code().starts_with("57P")
        }
    }
}

/// How long a worker keeps trying to reconnect before it gives up.
#[derive(Debug, Clone, Copy)]
pub struct Reconnect {
    /// The first wait; each next one doubles, up to `max_wait`.
    pub first_wait: Duration,
    /// The longest wait between two tries.
    pub max_wait: Duration,
    /// Give up after trying this long.
    pub give_up_after: Duration,
}

impl Default for Reconnect {
    fn default() -> Self {
        Self {
            first_wait: Duration::from_millis(100),
            max_wait: Duration::from_secs(2),
            give_up_after: Duration::from_secs(120),
        }
    }
}

/// A client that reconnects with backoff when the connection is lost, then
/// runs the failed operation again (every operation of a study is written to
/// be safe to repeat).
pub struct ReconnectingClient {
    address: StudyAddress,
    client: Client,
    reconnect: Reconnect,
    reconnects: usize,
}

impl std::fmt::Debug for ReconnectingClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReconnectingClient")
            .field("address", &self.address)
            .field("reconnects", &self.reconnects)
            .finish()
    }
}

impl ReconnectingClient {
    /// Connects once (a first connection that fails is an error at once: a
    /// wrong address or password should be said, not waited on).
    ///
    /// # Errors
    /// As [`StudyAddress::connect`].
    pub fn connect(address: &StudyAddress, reconnect: Reconnect) -> Result<Self> {
        Ok(Self {
            client: address.connect()?,
            address: address.clone(),
            reconnect,
            reconnects: 0,
        })
    }

    /// The address.
    pub fn address(&self) -> &StudyAddress {
        &self.address
    }

    /// How many times the connection was re-made.
    pub fn reconnects(&self) -> usize {
        self.reconnects
    }

    /// Runs `operation`, reconnecting and running it again while the
    /// connection is lost (session state such as advisory locks is lost with
    /// it: [`ReconnectingClient::reconnects`] tells).
    ///
    /// # Errors
    /// [`StudyError::Database`] for a refused statement, or when the server
    /// stays away longer than [`Reconnect::give_up_after`].
    pub fn run<T>(
        &mut self,
        mut operation: impl FnMut(&mut Client) -> std::result::Result<T, postgres::Error>,
    ) -> Result<T> {
        let mut lost_since: Option<Instant> = None;
        let mut wait = self.reconnect.first_wait;
        loop {
            let error = match operation(&mut self.client) {
                Ok(value) => return Ok(value),
                Err(e) if is_connection_lost(&e) => e,
                Err(e) => return Err(self.address.error(&e)),
            };
            let since = *lost_since.get_or_insert_with(Instant::now);
            loop {
                if since.elapsed() > self.reconnect.give_up_after {
                    return Err(StudyError::Database {
                        server: self.address.to_string(),
                        message: format!(
                            "connection lost ({}) and not back after {:.0} s",
                            full_message(&error),
                            self.reconnect.give_up_after.as_secs_f64()
                        ),
                    });
                }
                std::thread::sleep(wait);
                wait = (wait * 2).min(self.reconnect.max_wait);
                if let Ok(client) = self.address.connect() {
                    self.client = client;
                    self.reconnects += 1;
                    break;
                }
            }
        }
    }
}

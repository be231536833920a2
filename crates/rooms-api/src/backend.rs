//! What the API needs from its host: Lua scripts on Redis (by SHA-1 or
//! text), a ping, and randomness.

use std::future::Future;

/// One element of a Redis reply, as Spin's `execute` returns it (nested
/// arrays flattened).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Nil.
    Nil,
    /// Integer reply.
    Int(i64),
    /// Bulk string reply.
    Bytes(Vec<u8>),
    /// Simple string (status) reply.
    Status(String),
}

/// A failure of the backend. Its text is for the host's log only; the client
/// sees a generic `503`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// Redis could not be reached or answered with an error.
    #[error("redis: {0}")]
    Redis(String),
    /// `EVALSHA` named a script Redis does not hold (`NOSCRIPT`).
    #[error("redis: no such script")]
    NoScript,
    /// The system random source failed.
    #[error("random source: {0}")]
    Random(String),
}

/// The host side of the API.
pub trait Backend {
    /// `EVALSHA sha1 numkeys keys… args…`, the reply flattened;
    /// [`BackendError::NoScript`] if Redis answers `NOSCRIPT`.
    fn evalsha(
        &self,
        sha1: &str,
        keys: &[String],
        args: &[Vec<u8>],
    ) -> impl Future<Output = Result<Vec<Value>, BackendError>>;

    /// `EVAL script numkeys keys… args…`, the reply flattened.
    fn eval(
        &self,
        script: &str,
        keys: &[String],
        args: &[Vec<u8>],
    ) -> impl Future<Output = Result<Vec<Value>, BackendError>>;

    /// Checks that Redis answers.
    fn ping(&self) -> impl Future<Output = Result<(), BackendError>>;

    /// Fills `buf` from a cryptographically secure random source.
    fn random_bytes(&self, buf: &mut [u8]) -> Result<(), BackendError>;
}

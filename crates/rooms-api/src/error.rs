//! A request that ends in an error response.

use crate::backend::BackendError;
use crate::response::ApiResponse;
use vroom_shared::api::{ErrorBody, ErrorCode, ErrorDetail};

/// An error answer: code, client-facing message, extra headers, and a line
/// for the host's log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?}: {message}")]
pub(crate) struct ApiError {
    pub(crate) code: ErrorCode,
    message: String,
    headers: Vec<(&'static str, String)>,
    log: Option<String>,
}

impl ApiError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            headers: Vec::new(),
            log: None,
        }
    }

    /// Adds a response header.
    pub(crate) fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Adds a line for the host's log (never a secret).
    pub(crate) fn with_log(mut self, log: impl Into<String>) -> Self {
        self.log = Some(log.into());
        self
    }

    /// The one answer for an unknown room, a wrong join key, a wrong or
    /// missing creator token.
    pub(crate) fn no_such_room() -> Self {
        Self::new(ErrorCode::NotFound, "no live room with these credentials")
    }

    /// Storage answered something the scripts never return.
    pub(crate) fn unexpected_reply(what: &str) -> Self {
        Self::new(ErrorCode::Internal, "internal error")
            .with_log(format!("unexpected reply from {what}"))
    }

    pub(crate) fn into_response(self) -> ApiResponse {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
            },
        };
        let mut response = ApiResponse::json(self.code.status(), &body);
        response.headers.extend(self.headers);
        response.log = self.log;
        response
    }
}

impl From<BackendError> for ApiError {
    fn from(err: BackendError) -> Self {
        Self::new(
            ErrorCode::Unavailable,
            "storage is unavailable, try again later",
        )
        .with_log(err.to_string())
    }
}

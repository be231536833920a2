//! The response as the API produces it.

use serde::Serialize;

/// An HTTP response: status, headers, body, plus a line for the host's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResponse {
    /// Status code.
    pub status: u16,
    /// Headers (names lowercase).
    pub headers: Vec<(&'static str, String)>,
    /// Body (JSON, or empty for `204`).
    pub body: Vec<u8>,
    /// What went wrong server-side, for the host's log; never sent to the
    /// client and never contains a secret. `None` for ordinary answers.
    pub log: Option<String>,
}

/// Headers on every response.
const COMMON_HEADERS: [(&str, &str); 2] = [
    ("cache-control", "no-store"),
    ("x-content-type-options", "nosniff"),
];

impl ApiResponse {
    /// A JSON response.
    pub(crate) fn json(status: u16, body: &impl Serialize) -> Self {
        match serde_json::to_vec(body) {
            Ok(body) => {
                let mut response = Self::empty(status);
                response
                    .headers
                    .push(("content-type", "application/json".into()));
                response.body = body;
                response
            }
            Err(err) => {
                let mut response = Self::empty(500);
                response
                    .headers
                    .push(("content-type", "application/json".into()));
                response.body =
                    br#"{"error":{"code":"internal","message":"internal error"}}"#.to_vec();
                response.log = Some(format!("serialising a response: {err}"));
                response
            }
        }
    }

    /// `204 No Content`.
    pub(crate) fn no_content() -> Self {
        Self::empty(204)
    }

    fn empty(status: u16) -> Self {
        Self {
            status,
            headers: COMMON_HEADERS
                .iter()
                .map(|&(name, value)| (name, value.to_owned()))
                .collect(),
            body: Vec::new(),
            log: None,
        }
    }

    /// The value of a header (name lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_empty_responses_carry_the_common_headers() {
        let json = ApiResponse::json(200, &serde_json::json!({"ok": true}));
        assert_eq!(json.body, br#"{"ok":true}"#);
        assert_eq!(json.header("content-type"), Some("application/json"));
        let empty = ApiResponse::no_content();
        assert_eq!(empty.status, 204);
        assert_eq!(empty.header("content-type"), None);
        for response in [json, empty] {
            assert_eq!(response.header("cache-control"), Some("no-store"));
            assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
        }
    }
}

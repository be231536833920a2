//! The request as the API sees it, and the checks on its headers and body.

use crate::error::ApiError;
use vroom_shared::api::ErrorCode;

/// Largest request body accepted, in bytes. A host reads at most
/// `MAX_BODY_BYTES + 1` bytes of a body and hands over what it read; an
/// oversized body is then refused with `413`.
pub const MAX_BODY_BYTES: usize = 4096;

/// An HTTP request reduced to what the rooms API looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiRequest {
    /// Method, e.g. `POST` (case-sensitive, as in HTTP).
    pub method: String,
    /// Path without query, e.g. `/api/rooms/AAAA…/join`.
    pub path: String,
    /// Every header in the order received, names lowercase; a repeated
    /// header appears once per value.
    pub headers: Vec<(String, String)>,
    /// The body (at most `MAX_BODY_BYTES + 1` bytes of it).
    pub body: Vec<u8>,
}

impl ApiRequest {
    /// A request with no headers and no body.
    pub fn new(method: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            path: path.into(),
            ..Self::default()
        }
    }

    /// Appends a header value (name case-insensitive), after any received
    /// before it: the host adds headers in the order it received them.
    pub fn add_header(&mut self, name: &str, value: &str) {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
    }

    /// Builder form of [`Self::add_header`].
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.add_header(name, value);
        self
    }

    /// Every value of header `name` (lowercase), in the order received.
    pub fn header_values(&self, name: &str) -> impl Iterator<Item = &str> {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).next()
    }

    /// Builder: sets the body.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// `413` if `Content-Length` or the body exceeds [`MAX_BODY_BYTES`],
    /// `400` if `Content-Length` is not a number.
    pub(crate) fn check_size(&self) -> Result<(), ApiError> {
        if let Some(declared) = self.header("content-length") {
            let declared = declared.trim();
            if declared.is_empty() || !declared.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ApiError::new(
                    ErrorCode::BadRequest,
                    "Content-Length is not a number",
                ));
            }
            // Digits only, so a parse failure means it overflows: too large.
            if declared
                .parse::<usize>()
                .map_or(true, |n| n > MAX_BODY_BYTES)
            {
                return Err(too_large());
            }
        }
        if self.body.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        Ok(())
    }

    /// `415` unless the body is declared `application/json` (with at most a
    /// `charset=utf-8` parameter).
    pub(crate) fn check_json_content_type(&self) -> Result<(), ApiError> {
        let ok = self.header("content-type").is_some_and(|value| {
            let mut parts = value.split(';').map(str::trim);
            let essence = parts.next().unwrap_or_default();
            essence.eq_ignore_ascii_case("application/json")
                && parts.all(|param| {
                    param.split_once('=').is_some_and(|(name, v)| {
                        name.trim().eq_ignore_ascii_case("charset")
                            && v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
                    })
                })
        });
        if ok {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "Content-Type must be application/json",
            ))
        }
    }

    /// The token of `Authorization: Bearer <token>`, if that is the header.
    pub(crate) fn bearer_token(&self) -> Option<&str> {
        let value = self.header("authorization")?.trim();
        let (scheme, token) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("request body must be at most {MAX_BODY_BYTES} bytes"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(result: Result<(), ApiError>) -> Option<ErrorCode> {
        result.err().map(|e| e.code)
    }

    #[test]
    fn headers_keep_every_value_in_order() {
        let req = ApiRequest::new("POST", "/api/rooms")
            .with_header("Content-Type", "application/json")
            .with_header("content-type", "text/plain")
            .with_header("SPIN-CLIENT-ADDR", "10.0.0.1:1")
            .with_header("spin-client-addr", "127.0.0.1:5000");
        assert_eq!(req.header("content-type"), Some("application/json"));
        assert_eq!(
            req.header_values("spin-client-addr").collect::<Vec<_>>(),
            ["10.0.0.1:1", "127.0.0.1:5000"]
        );
        assert_eq!(req.header("authorization"), None);
    }

    #[test]
    fn size_limits() {
        let ok = ApiRequest::new("POST", "/").with_body(vec![b' '; MAX_BODY_BYTES]);
        assert_eq!(code(ok.check_size()), None);
        let big = ApiRequest::new("POST", "/").with_body(vec![b' '; MAX_BODY_BYTES + 1]);
        assert_eq!(code(big.check_size()), Some(ErrorCode::PayloadTooLarge));
        for (declared, expected) in [
            ("4096", None),
            ("4097", Some(ErrorCode::PayloadTooLarge)),
            (
                "99999999999999999999999999",
                Some(ErrorCode::PayloadTooLarge),
            ),
            ("-1", Some(ErrorCode::BadRequest)),
            ("12abc", Some(ErrorCode::BadRequest)),
            ("", Some(ErrorCode::BadRequest)),
        ] {
            let req = ApiRequest::new("POST", "/").with_header("content-length", declared);
            assert_eq!(code(req.check_size()), expected, "{declared:?}");
        }
    }

    #[test]
    fn content_type() {
        for good in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/json;charset=\"UTF-8\"",
        ] {
            let req = ApiRequest::new("POST", "/").with_header("content-type", good);
            assert_eq!(code(req.check_json_content_type()), None, "{good}");
        }
        for bad in [
            "text/plain",
            "application/json-patch+json",
            "application/json; charset=latin1",
            "application/json; boundary=x",
            "application/jsonx",
            "",
        ] {
            let req = ApiRequest::new("POST", "/").with_header("content-type", bad);
            assert_eq!(
                code(req.check_json_content_type()),
                Some(ErrorCode::UnsupportedMediaType),
                "{bad}"
            );
        }
        assert_eq!(
            code(ApiRequest::new("POST", "/").check_json_content_type()),
            Some(ErrorCode::UnsupportedMediaType)
        );
    }

    #[test]
    fn bearer() {
        let with = |v: &str| ApiRequest::new("DELETE", "/").with_header("authorization", v);
        assert_eq!(with("Bearer abc").bearer_token(), Some("abc"));
        assert_eq!(with("bearer   abc ").bearer_token(), Some("abc"));
        assert_eq!(with("Basic abc").bearer_token(), None);
        assert_eq!(with("Bearer").bearer_token(), None);
        assert_eq!(ApiRequest::new("DELETE", "/").bearer_token(), None);
    }
}

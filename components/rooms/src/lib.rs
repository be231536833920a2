//! Spin HTTP component: the rooms API.
//!
//! A thin adapter: maps the Spin request to a [`vroom_rooms_api::ApiRequest`]
//! (path from the request URI, every header in the order received — the
//! client address is read from the right end of them —, at most
//! `MAX_BODY_BYTES + 1` bytes of body), answers a bad path or method with
//! [`vroom_rooms_api::route_error`] before reading any variable, else runs
//! [`vroom_rooms_api::handle`] with
//! a [`Backend`] on Spin's Redis (`redis_url` with `redis_username` and
//! `redis_password`: [`Config::redis_address`]) and the [`Config`]
//! read from Spin variables, and writes the answer back.

use bytes::Bytes;
use http_body_util::BodyExt;
use spin_sdk::http::{FullBody, HeaderMap, HeaderName, HeaderValue, Request, StatusCode};
use spin_sdk::redis::{Connection, RedisParameter, RedisResult};
use std::cell::OnceCell;
use std::collections::HashMap;
use vroom_rooms_api::{
    ApiRequest, ApiResponse, Backend, BackendError, Config, MAX_BODY_BYTES, Value,
};

/// Handles one HTTP request. Exported as `wasi:http/handler` on wasm32 only:
/// a native cdylib cannot link that export name, and natively the crate
/// exists just to be checked.
#[cfg_attr(target_arch = "wasm32", spin_sdk::http_service)]
pub async fn handle(
    request: Request,
) -> Result<(StatusCode, HeaderMap, FullBody<Bytes>), spin_sdk::http::Error> {
    let api_request = api_request(request).await?;
    // A bad path or method is answered before any variable is read.
    if let Some(response) = vroom_rooms_api::route_error(&api_request) {
        return Ok(to_http(response));
    }
    let config = match config().await {
        Ok(config) => config,
        Err(error) => {
            eprintln!("rooms: misconfigured: {error}");
            return Ok(internal_error());
        }
    };
    let backend = SpinBackend::new(config.redis_address());
    let response = vroom_rooms_api::handle(api_request, &backend, &config).await;
    if let Some(log) = &response.log {
        eprintln!("rooms: {} {log}", response.status);
    }
    Ok(to_http(response))
}

/// Reads the variables [`Config`] needs; a variable that cannot be read
/// counts as unset.
async fn config() -> Result<Config, vroom_rooms_api::ConfigError> {
    let mut vars = HashMap::new();
    for name in Config::REQUIRED.into_iter().chain(Config::OPTIONAL) {
        if let Ok(value) = spin_sdk::variables::get(name).await {
            vars.insert(name, value);
        }
    }
    Config::from_lookup(|name| vars.get(name).cloned())
}

/// The API's view of the request. Reads no more than `MAX_BODY_BYTES + 1`
/// bytes of body, and none when `Content-Length` already says too many.
async fn api_request(request: Request) -> Result<ApiRequest, spin_sdk::http::Error> {
    let (parts, mut body) = request.into_parts();
    let mut api = ApiRequest::new(parts.method.as_str(), parts.uri.path());
    // `iter` yields every value of a name in the order received.
    for (name, value) in &parts.headers {
        api.add_header(name.as_str(), &String::from_utf8_lossy(value.as_bytes()));
    }
    let declared_too_large = api
        .header("content-length")
        .and_then(|n| n.trim().parse::<u64>().ok())
        .is_some_and(|n| n > MAX_BODY_BYTES as u64);
    if !declared_too_large {
        while api.body.len() <= MAX_BODY_BYTES {
            let Some(frame) = body.frame().await else {
                break;
            };
            if let Ok(data) = frame?.into_data() {
                api.body.extend_from_slice(&data);
            }
        }
    }
    Ok(api)
}

/// A `500` for a component that cannot even read its configuration.
fn internal_error() -> (StatusCode, HeaderMap, FullBody<Bytes>) {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("cache-control", HeaderValue::from_static("no-store"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    let body = br#"{"error":{"code":"internal","message":"internal error"}}"#;
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        headers,
        FullBody::new(Bytes::from_static(body)),
    )
}

/// The API's answer as a Spin response.
fn to_http(response: ApiResponse) -> (StatusCode, HeaderMap, FullBody<Bytes>) {
    let Ok(status) = StatusCode::from_u16(response.status) else {
        return internal_error();
    };
    let mut headers = HeaderMap::new();
    for (name, value) in response.headers {
        match (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            (Ok(name), Ok(value)) => {
                headers.append(name, value);
            }
            _ => return internal_error(),
        }
    }
    (status, headers, FullBody::new(Bytes::from(response.body)))
}

/// [`Backend`] on Spin's outbound Redis, connecting on first use (requests
/// refused before storage never open a connection).
struct SpinBackend {
    url: String,
    connection: OnceCell<Connection>,
}

impl SpinBackend {
    fn new(url: String) -> Self {
        Self {
            url,
            connection: OnceCell::new(),
        }
    }

    async fn connection(&self) -> Result<&Connection, BackendError> {
        if let Some(connection) = self.connection.get() {
            return Ok(connection);
        }
        let connection = Connection::open(&self.url).await.map_err(redis_error)?;
        Ok(self.connection.get_or_init(|| connection))
    }
}

/// The Redis error, for the log (it never holds the URL or arguments).
fn redis_error(error: spin_sdk::redis::Error) -> BackendError {
    BackendError::Redis(format!("{error:?}"))
}

impl SpinBackend {
    /// `command first numkeys keys… args…` (`EVAL` or `EVALSHA`), the reply
    /// as the API's values.
    async fn script(
        &self,
        command: &str,
        first: &str,
        keys: &[String],
        args: &[Vec<u8>],
    ) -> Result<Vec<Value>, BackendError> {
        let key_count =
            i64::try_from(keys.len()).map_err(|_| BackendError::Redis("too many keys".into()))?;
        let params = [
            RedisParameter::Binary(first.as_bytes().to_vec()),
            RedisParameter::Int64(key_count),
        ]
        .into_iter()
        .chain(
            keys.iter()
                .map(|k| RedisParameter::Binary(k.as_bytes().to_vec())),
        )
        .chain(args.iter().map(|a| RedisParameter::Binary(a.clone())));
        let reply = self
            .connection()
            .await?
            .execute(command, params)
            .await
            .map_err(script_error)?;
        Ok(reply.into_iter().map(value).collect())
    }
}

/// [`BackendError::NoScript`] for Redis' `NOSCRIPT`, else [`redis_error`].
/// Spin reports a Redis error as text only (`Other(…)`): Spin's own host
/// passes the `redis` crate's message (`NoScriptError: …` or `NOSCRIPT …`),
/// the local host its category (`no script`); all of them name it.
fn script_error(error: spin_sdk::redis::Error) -> BackendError {
    if let spin_sdk::redis::Error::Other(text) = &error {
        let squeezed: String = text
            .chars()
            .filter(char::is_ascii_alphabetic)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if squeezed.contains("noscript") {
            return BackendError::NoScript;
        }
    }
    redis_error(error)
}

impl Backend for SpinBackend {
    async fn evalsha(
        &self,
        sha1: &str,
        keys: &[String],
        args: &[Vec<u8>],
    ) -> Result<Vec<Value>, BackendError> {
        self.script("EVALSHA", sha1, keys, args).await
    }

    async fn eval(
        &self,
        script: &str,
        keys: &[String],
        args: &[Vec<u8>],
    ) -> Result<Vec<Value>, BackendError> {
        self.script("EVAL", script, keys, args).await
    }

    async fn ping(&self) -> Result<(), BackendError> {
        self.connection()
            .await?
            .execute("PING", [])
            .await
            .map(drop)
            .map_err(redis_error)
    }

    fn random_bytes(&self, buf: &mut [u8]) -> Result<(), BackendError> {
        getrandom::fill(buf).map_err(|e| BackendError::Random(e.to_string()))
    }
}

/// Spin's reply element as the API's.
fn value(result: RedisResult) -> Value {
    match result {
        RedisResult::Nil => Value::Nil,
        RedisResult::Status(s) => Value::Status(s),
        RedisResult::Int64(i) => Value::Int(i),
        RedisResult::Binary(b) => Value::Bytes(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_status_headers_and_body() {
        let response = ApiResponse {
            status: 429,
            headers: vec![
                ("content-type", "application/json".into()),
                ("retry-after", "12".into()),
            ],
            body: b"{}".to_vec(),
            log: None,
        };
        let (status, headers, _) = to_http(response);
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(headers["retry-after"], "12");
        assert_eq!(headers["content-type"], "application/json");
    }

    #[test]
    fn unsendable_responses_become_a_json_500() {
        for (status, header) in [(200, "line\nbreak"), (1000, "fine")] {
            let response = ApiResponse {
                status,
                headers: vec![("x-test", header.into())],
                body: Vec::new(),
                log: None,
            };
            let (status, headers, _) = to_http(response);
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(headers["content-type"], "application/json");
            assert!(headers.get("x-test").is_none());
        }
    }

    #[test]
    fn noscript_is_recognised_in_every_host_wording() {
        use spin_sdk::redis::Error;
        for text in [
            "Redis error: no script",
            "NoScriptError: No matching script. Please use EVAL.",
            "NOSCRIPT No matching script. Please use EVAL.",
        ] {
            assert_eq!(
                script_error(Error::Other(text.into())),
                BackendError::NoScript
            );
        }
        for error in [
            Error::Other("Redis error: script execution aborted".into()),
            Error::Other("Redis is unreachable".into()),
            Error::TypeError,
        ] {
            assert_ne!(script_error(error), BackendError::NoScript);
        }
    }

    #[test]
    fn replies_map_one_to_one() {
        assert_eq!(value(RedisResult::Nil), Value::Nil);
        assert_eq!(value(RedisResult::Int64(-1)), Value::Int(-1));
        assert_eq!(
            value(RedisResult::Status("OK".into())),
            Value::Status("OK".into())
        );
        assert_eq!(
            value(RedisResult::Binary(b"x".to_vec())),
            Value::Bytes(b"x".to_vec())
        );
    }
}

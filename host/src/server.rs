//! The HTTP/1.1 front end: accepts connections with hyper, routes each request
//! like Spin, adds the `spin-*` headers and runs the component.
//!
//! What a client can hold is bounded before any guest runs: open connections
//! (beyond the cap a connection gets `503` and is closed), requests running a
//! guest (beyond the cap `503`), the time to send the request head (hyper's
//! header read timeout, which also bounds an idle kept-alive connection) and
//! the time to send the body (`408`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::app::{App, HandleError};

/// Limits the front end enforces before a component sees a request.
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    /// Wall-clock and CPU time a request may take before it gets 504.
    pub request_deadline: Duration,
    /// Largest request body accepted (413 beyond).
    pub max_request_body: usize,
    /// How long a client may take to send its request headers (and how long
    /// a kept-alive connection may wait for the next request).
    pub header_read_timeout: Duration,
    /// How long a client may take to send its request body (408 beyond).
    pub body_read_timeout: Duration,
    /// Connections open at once; more get 503 and are closed.
    pub max_connections: usize,
    /// Requests running a guest at once; more get 503.
    pub max_in_flight: usize,
}

/// Connections being answered `503` at once (past the connection cap); any
/// beyond are closed without an answer.
const MAX_REFUSING: usize = 64;

/// Headers that describe one connection hop and are not forwarded.
const HOP_BY_HOP: [HeaderName; 5] = [
    header::CONNECTION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// Serves `app` on `listener` until `shutdown` resolves, then lets requests
/// in flight finish (up to `grace`).
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> anyhow::Result<()> {
    let local_addr = listener.local_addr()?;
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let refusing = Arc::new(Semaphore::new(MAX_REFUSING));
    let in_flight = Arc::new(Semaphore::new(limits.max_in_flight));
    let mut last_warned: Option<Instant> = None;
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            if last_warned.is_none_or(|at| at.elapsed() > Duration::from_secs(60)) {
                last_warned = Some(Instant::now());
                tracing::warn!(
                    max_connections = limits.max_connections,
                    "connection cap reached: answering 503 (said at most once a minute)"
                );
            }
            if let Ok(refusal) = refusing.clone().try_acquire_owned() {
                tokio::spawn(refuse(stream, limits, refusal));
            }
            continue;
        };
        let app = app.clone();
        let in_flight = in_flight.clone();
        let service = service_fn(move |request| {
            let app = app.clone();
            let in_flight = in_flight.clone();
            async move {
                let response = handle(&app, request, peer, local_addr, limits, &in_flight).await;
                Ok::<_, Infallible>(response)
            }
        });
        let connection = http1(limits).serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!("shutting down: waiting for requests in flight");
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after the grace period");
    }
    Ok(())
}

/// The HTTP/1.1 connection settings every connection shares.
fn http1(limits: ServerLimits) -> hyper::server::conn::http1::Builder {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
}

/// Answers every request of a connection past the cap with `503` and closes
/// it; reading the request first lets the client see the answer.
async fn refuse(stream: TcpStream, limits: ServerLimits, _refusal: OwnedSemaphorePermit) {
    let service = service_fn(|_request: Request<Incoming>| async {
        Ok::<_, Infallible>(busy("too many connections, try again shortly"))
    });
    let mut builder = http1(limits);
    builder.keep_alive(false);
    if let Err(err) = builder
        .serve_connection(TokioIo::new(stream), service)
        .await
    {
        tracing::debug!(error = %err, "refused connection ended with an error");
    }
}

/// `503` with `Retry-After`, before any guest runs.
fn busy(message: &str) -> Response<Full<Bytes>> {
    let mut response = error_response(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// Answers one request: route, read the body (within its deadline), then run
/// the component if a slot of `in_flight` is free.
async fn handle(
    app: &App,
    request: Request<Incoming>,
    peer: SocketAddr,
    local_addr: SocketAddr,
    limits: ServerLimits,
    in_flight: &Semaphore,
) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let method = request.method().clone();
    let Some(matched) = app.router().find(request.uri().path()) else {
        return error_response(
            StatusCode::NOT_FOUND,
            "not_found",
            "no route matches this path",
        );
    };
    let index = matched.route.component;
    let route = matched.route.raw.clone();
    let (parts, body) = request.into_parts();
    let collected = tokio::time::timeout(
        limits.body_read_timeout,
        Limited::new(body, limits.max_request_body).collect(),
    )
    .await;
    let body = match collected {
        Ok(Ok(body)) => body.to_bytes(),
        Err(_elapsed) => {
            let mut response = error_response(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "the request body took too long to arrive",
            );
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
        Ok(Err(err)) if err.is::<http_body_util::LengthLimitError>() => {
            return error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is too large",
            );
        }
        Ok(Err(_)) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "the request body could not be read",
            );
        }
    };
    let guest_request = match guest_request(parts, body, &matched, peer, local_addr) {
        Ok(request) => request,
        Err(message) => return error_response(StatusCode::BAD_REQUEST, "bad_request", message),
    };
    let Ok(_running) = in_flight.try_acquire() else {
        return busy("the server is busy, try again shortly");
    };
    let response = match app
        .handle(index, guest_request, limits.request_deadline)
        .await
    {
        Ok(response) => response,
        Err(HandleError::Deadline) => {
            tracing::warn!(
                component = app.component_id(index),
                "request deadline exceeded"
            );
            error_response(
                StatusCode::GATEWAY_TIMEOUT,
                "timeout",
                "the request took too long",
            )
        }
        Err(HandleError::Guest(err)) => {
            // The guest's error is for the operator, never for the client.
            tracing::error!(component = app.component_id(index), error = %format!("{err:#}"), "component failed");
            error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error",
            )
        }
    };
    tracing::debug!(
        %method,
        %route,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}

/// Builds what the component receives: an absolute URI, the client's headers
/// without hop-by-hop ones, then Spin's headers appended after them — as real
/// Spin does, a `spin-*` header the client sent stays, before the host's own
/// value.
fn guest_request(
    parts: http::request::Parts,
    body: Bytes,
    matched: &crate::routing::RouteMatch<'_>,
    peer: SocketAddr,
    local_addr: SocketAddr,
) -> Result<Request<Full<Bytes>>, &'static str> {
    let authority = parts
        .headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .and_then(|host| host.parse::<http::uri::Authority>().ok())
        .map_or_else(|| local_addr.to_string(), |authority| authority.to_string());
    let path_and_query = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let full_url = format!("http://{authority}{path_and_query}");
    let uri: Uri = full_url.parse().map_err(|_| "invalid request URI")?;

    let mut headers = parts.headers;
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
    let route = &matched.route;
    let spin_headers = [
        ("spin-full-url", full_url.as_str()),
        ("spin-path-info", matched.path_info.as_str()),
        ("spin-matched-route", route.raw.as_str()),
        ("spin-raw-component-route", route.raw.as_str()),
        ("spin-component-route", route.component_route()),
        ("spin-base-path", "/"),
        ("spin-client-addr", &peer.to_string()),
    ];
    for (name, value) in spin_headers {
        let value = HeaderValue::from_str(value).map_err(|_| "invalid request header")?;
        headers.append(HeaderName::from_static(name), value);
    }

    let mut request = Request::new(Full::new(body));
    *request.method_mut() = parts.method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    Ok(request)
}

/// A JSON error in the API's shape, for failures before or around a component.
fn error_response(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    let body = format!(r#"{{"error":{{"code":"{code}","message":"{message}"}}}}"#);
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::{Route, RouteMatch};

    #[test]
    fn client_spin_headers_pass_first_and_the_hosts_follow() {
        let (parts, ()) = Request::get("/api/rooms")
            .header("host", "vroom.test")
            .header("spin-client-addr", "10.9.8.7:1")
            .header("spin-path-info", "/forged")
            .header("x-forwarded-for", "6.6.6.6")
            .header("connection", "keep-alive")
            .body(())
            .unwrap()
            .into_parts();
        let route = Route::parse("/api/...", 0).unwrap();
        let matched = RouteMatch {
            route: &route,
            path_info: "/rooms".into(),
        };
        let peer: SocketAddr = "203.0.113.9:5000".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:3000".parse().unwrap();
        let request = guest_request(parts, Bytes::new(), &matched, peer, local).unwrap();
        let values = |name: &str| -> Vec<&str> {
            request
                .headers()
                .get_all(name)
                .iter()
                .map(|v| v.to_str().unwrap())
                .collect()
        };
        assert_eq!(
            values("spin-client-addr"),
            ["10.9.8.7:1", "203.0.113.9:5000"]
        );
        assert_eq!(values("spin-path-info"), ["/forged", "/rooms"]);
        assert_eq!(values("x-forwarded-for"), ["6.6.6.6"]);
        assert!(values("connection").is_empty());
        assert_eq!(request.uri(), "http://vroom.test/api/rooms");
    }
}

//! The HTTP/1.1 front end: accepts connections with hyper, routes each request
//! like Spin, adds the `spin-*` headers and runs the component.

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
use tokio::net::TcpListener;

use crate::app::{App, HandleError};

/// Limits the front end enforces before a component sees a request.
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    /// Wall-clock and CPU time a request may take before it gets 504.
    pub request_deadline: Duration,
    /// Largest request body accepted (413 beyond).
    pub max_request_body: usize,
    /// How long a client may take to send its request headers.
    pub header_read_timeout: Duration,
}

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
        let app = app.clone();
        let service = service_fn(move |request| {
            let app = app.clone();
            async move { Ok::<_, Infallible>(handle(&app, request, peer, local_addr, limits).await) }
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "connection ended with an error");
            }
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

async fn handle(
    app: &App,
    request: Request<Incoming>,
    peer: SocketAddr,
    local_addr: SocketAddr,
    limits: ServerLimits,
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
    let body = match Limited::new(body, limits.max_request_body).collect().await {
        Ok(body) => body.to_bytes(),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => {
            return error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is too large",
            );
        }
        Err(_) => {
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
/// without hop-by-hop or client-supplied `spin-*` ones, and Spin's headers.
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
    let spoofed: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("spin-"))
        .cloned()
        .collect();
    for name in spoofed {
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
        headers.insert(HeaderName::from_static(name), value);
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

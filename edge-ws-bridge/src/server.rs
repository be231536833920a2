//! HTTP/1.1: on the public port `GET /ws` (WebSocket upgrade) and
//! `GET /healthz`; on the metrics address `GET /metrics`. A connection takes
//! the node's permit before anything is read from it, and a WebSocket its
//! client address's permit before the upgrade. Request paths and headers are
//! never logged.

use crate::Node;
use crate::limits::{self, AddrPermit};
use crate::metrics;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::OwnedSemaphorePermit;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

/// Accepts connections until the node shuts down. Beyond the node's
/// connection cap a new connection is closed at once.
pub(crate) async fn serve(node: Arc<Node>, listener: TcpListener) {
    let mut shutdown = node.shutdown_rx();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => match node.limits.connection() {
                    Some(permit) => {
                        tokio::spawn(connection(node.clone(), stream, peer, permit));
                    }
                    None => {
                        metrics::inc(&node.metrics.refused_node_full);
                        drop(stream);
                    }
                },
                Err(err) => {
                    // Out of file descriptors, most likely: back off.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = shutdown.changed() => break,
        }
    }
}

/// Serves the metrics address until the node shuts down.
pub(crate) async fn serve_metrics(node: Arc<Node>, listener: TcpListener) {
    let mut shutdown = node.shutdown_rx();
    loop {
        tokio::select! {
            accepted = listener.accept() => if let Ok((stream, _)) = accepted {
                let node = node.clone();
                let svc = service_fn(move |req: Request<Incoming>| {
                    let res = match (req.method(), req.uri().path()) {
                        (&Method::GET, "/metrics") => metrics_response(&node),
                        _ => text(StatusCode::NOT_FOUND, "not found\n"),
                    };
                    async move { Ok::<_, Infallible>(res) }
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(Duration::from_secs(10))
                        .serve_connection(TokioIo::new(stream), svc),
                );
            },
            _ = shutdown.changed() => break,
        }
    }
}

/// The connection's node permit: handed on to its WebSocket when it
/// upgrades, else dropped with the connection.
type PermitSlot = Arc<Mutex<Option<OwnedSemaphorePermit>>>;

async fn connection(
    node: Arc<Node>,
    stream: TcpStream,
    peer: SocketAddr,
    permit: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let slot: PermitSlot = Arc::new(Mutex::new(Some(permit)));
    let header_timeout = Duration::from_millis(node.config.hello_timeout_ms);
    let svc = service_fn(move |req| {
        let node = node.clone();
        let slot = slot.clone();
        async move { Ok::<_, Infallible>(handle(node, req, peer, &slot)) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(8192)
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), svc)
        .with_upgrades()
        .await;
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

fn metrics_response(node: &Node) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from(node.metrics.render())));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    res
}

fn handle(
    node: Arc<Node>,
    req: Request<Incoming>,
    peer: SocketAddr,
    slot: &PermitSlot,
) -> Response<Full<Bytes>> {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/healthz") => {
            if node.metrics.redis_up.load(Relaxed) == 1 && !node.is_shutting_down() {
                text(StatusCode::OK, "ok\n")
            } else {
                text(StatusCode::SERVICE_UNAVAILABLE, "unavailable\n")
            }
        }
        (&Method::GET, "/ws") => upgrade(node, req, peer, slot),
        (_, "/ws" | "/healthz") => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n"),
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

fn header_has_token(req: &Request<Incoming>, name: header::HeaderName, token: &str) -> bool {
    req.headers().get_all(name).iter().any(|v| {
        v.to_str()
            .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
            .unwrap_or(false)
    })
}

fn upgrade(
    node: Arc<Node>,
    mut req: Request<Incoming>,
    peer: SocketAddr,
    slot: &PermitSlot,
) -> Response<Full<Bytes>> {
    let key = req.headers().get(header::SEC_WEBSOCKET_KEY).cloned();
    let valid = header_has_token(&req, header::CONNECTION, "upgrade")
        && header_has_token(&req, header::UPGRADE, "websocket")
        && req
            .headers()
            .get(header::SEC_WEBSOCKET_VERSION)
            .is_some_and(|v| v == "13");
    let Some(key) = key.filter(|_| valid) else {
        let mut res = text(StatusCode::UPGRADE_REQUIRED, "WebSocket upgrade required\n");
        res.headers_mut().insert(
            header::SEC_WEBSOCKET_VERSION,
            header::HeaderValue::from_static("13"),
        );
        return res;
    };
    if node.is_shutting_down() {
        return text(StatusCode::SERVICE_UNAVAILABLE, "restarting\n");
    }
    let ip = limits::client_ip(node.addr_source.as_ref(), peer, req.headers());
    let Some(addr_permit) = node.limits.addr(ip) else {
        metrics::inc(&node.metrics.refused_addr_cap);
        let mut res = text(
            StatusCode::TOO_MANY_REQUESTS,
            "too many connections from this address\n",
        );
        res.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("10"));
        return res;
    };
    let permits = Permits {
        _node: slot.lock().unwrap_or_else(|e| e.into_inner()).take(),
        _addr: addr_permit,
    };
    let origin_ok = node.origin_allowed(req.headers().get(header::ORIGIN));
    let on_upgrade = hyper::upgrade::on(&mut req);
    // Only what the socket needs lives on in its task: the upgrade result
    // and the settings are gone once the WebSocket is made.
    tokio::spawn(async move {
        // The permits live as long as the socket.
        let _permits = permits;
        let upgraded = match on_upgrade.await {
            Ok(upgraded) => upgraded,
            Err(err) => {
                tracing::debug!(error = %err, "upgrade failed");
                return;
            }
        };
        let config = node.ws_config();
        let mut ws =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config))
                .await;
        crate::socket::run(node, &mut ws, origin_ok).await;
    });
    let mut res = Response::new(Full::new(Bytes::new()));
    *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = res.headers_mut();
    h.insert(
        header::CONNECTION,
        header::HeaderValue::from_static("Upgrade"),
    );
    h.insert(
        header::UPGRADE,
        header::HeaderValue::from_static("websocket"),
    );
    if let Ok(accept) = header::HeaderValue::from_str(&derive_accept_key(key.as_bytes())) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    res
}

/// What a WebSocket holds while it lives: its connection's node permit and
/// its client address's.
struct Permits {
    _node: Option<OwnedSemaphorePermit>,
    _addr: AddrPermit,
}

/// The WebSocket settings every socket gets: small buffers, the frame limit.
pub(crate) fn ws_config(config: &crate::Config) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(config.read_buffer)
        .write_buffer_size(config.write_buffer)
        .max_write_buffer_size(config.write_buffer + config.max_frame * 2 + 1024)
        .max_message_size(Some(config.max_frame))
        .max_frame_size(Some(config.max_frame))
}

//! A small HTTP/1.1 client for the rooms API (kept-alive connections).

use anyhow::Result;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// A pooled HTTP/1.1 client.
pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// A client keeping up to `idle` connections to one host.
pub fn client(idle: usize) -> HttpClient {
    client_from(None, idle)
}

/// A client whose connections come from `source` (e.g. a 127.x.y.z address,
/// so rate limits see another client), keeping up to `idle` of them.
pub fn client_from(source: Option<std::net::IpAddr>, idle: usize) -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_local_address(source);
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(idle)
        .build(connector)
}

/// `len` random bytes, base64url without padding.
pub fn random_b64(len: usize) -> Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes(len)?))
}

/// A fresh join key and the room id bound to it (protocol v2), as base64url:
/// `(room_id, join_key)`.
pub fn new_room_credentials() -> Result<(String, String)> {
    let key: [u8; 32] = random_bytes(32)?
        .try_into()
        .map_err(|_| anyhow::anyhow!("32 random bytes"))?;
    let key = vroom_shared::JoinKey::from_bytes(key);
    Ok((
        vroom_shared::RoomId::for_join_key(&key).to_base64(),
        key.to_base64(),
    ))
}

/// `len` random bytes.
pub fn random_bytes(len: usize) -> Result<Vec<u8>> {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).map_err(|err| anyhow::anyhow!("randomness: {err}"))?;
    Ok(bytes)
}

/// Sends one request; returns the status and the body.
pub async fn send(
    client: &HttpClient,
    method: http::Method,
    url: &str,
    body: Option<String>,
    bearer: Option<&str>,
) -> Result<(u16, Bytes)> {
    let mut request = http::Request::builder().method(method).uri(url);
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    if let Some(token) = bearer {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request.body(Full::new(Bytes::from(body.unwrap_or_default())))?;
    let response = client.request(request).await?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

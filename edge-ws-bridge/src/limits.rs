//! Connection permits, taken before any work: the node's cap on connections
//! to its public port, and the cap on WebSockets per client address (an
//! IPv4 address or an IPv6 /64, `vroom_shared::client_addr`).

use http::HeaderMap;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use vroom_shared::client_addr::{Bucket, ClientAddrSource};

/// The node's connection caps.
pub(crate) struct Limits {
    connections: Arc<Semaphore>,
    per_addr: Mutex<HashMap<Bucket, usize>>,
    max_per_addr: usize,
}

/// One WebSocket counted against its client address while it lives.
pub(crate) struct AddrPermit {
    limits: Arc<Limits>,
    bucket: Bucket,
}

impl Limits {
    /// Caps of `max_connections` connections and `max_per_addr` WebSockets
    /// per client address.
    pub(crate) fn new(max_connections: usize, max_per_addr: usize) -> Arc<Self> {
        Arc::new(Self {
            connections: Arc::new(Semaphore::new(max_connections)),
            per_addr: Mutex::new(HashMap::new()),
            max_per_addr,
        })
    }

    /// A permit for one more connection, held while it lives; `None` when
    /// the node holds as many as it may.
    pub(crate) fn connection(&self) -> Option<OwnedSemaphorePermit> {
        self.connections.clone().try_acquire_owned().ok()
    }

    /// A permit for one more WebSocket from `ip` (`None`: no usable
    /// address, counted with every other such client); `None` when that
    /// address (IPv4) or network (IPv6 /64) holds as many as it may.
    pub(crate) fn addr(self: &Arc<Self>, ip: Option<IpAddr>) -> Option<AddrPermit> {
        // `Bucket::of` lists the IPv6 /64 first; the wider prefixes are for
        // the rooms API's rate limits.
        let bucket = Bucket::of(ip).into_iter().next().unwrap_or(Bucket::Unknown);
        let mut counts = self.per_addr.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(bucket).or_insert(0);
        if *count >= self.max_per_addr {
            return None;
        }
        *count += 1;
        Some(AddrPermit {
            limits: self.clone(),
            bucket,
        })
    }
}

impl Drop for AddrPermit {
    fn drop(&mut self) {
        let mut counts = self
            .limits
            .per_addr
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(count) = counts.get_mut(&self.bucket) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.bucket);
            }
        }
    }
}

/// The client's address: from `source` (a forwarding header, read from its
/// right end) when one is configured, else the TCP peer's.
pub(crate) fn client_ip(
    source: Option<&ClientAddrSource>,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Option<IpAddr> {
    match source {
        None => Some(peer.ip()),
        Some(source) => source.client_ip(
            headers
                .get_all(source.header())
                .iter()
                .filter_map(|v| v.to_str().ok()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_ipv4_address_and_ipv6_64() {
        let limits = Limits::new(10, 2);
        let ip = |s: &str| s.parse::<IpAddr>().ok();
        let a = limits.addr(ip("192.0.2.1")).unwrap();
        let _b = limits.addr(ip("192.0.2.1")).unwrap();
        assert!(limits.addr(ip("192.0.2.1")).is_none());
        assert!(limits.addr(ip("192.0.2.2")).is_some(), "another address");
        drop(a);
        assert!(limits.addr(ip("192.0.2.1")).is_some(), "a permit came back");

        let _c = limits.addr(ip("2001:db8:0:1::1")).unwrap();
        let _d = limits.addr(ip("2001:db8:0:1:ffff::2")).unwrap();
        assert!(limits.addr(ip("2001:db8:0:1::3")).is_none(), "one /64");
        assert!(limits.addr(ip("2001:db8:0:2::1")).is_some(), "another /64");

        let _e = limits.addr(None).unwrap();
        let _f = limits.addr(None).unwrap();
        assert!(limits.addr(None).is_none(), "the unknown share one bucket");
    }

    #[test]
    fn the_address_comes_from_the_configured_source() {
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.append("x-forwarded-for", "6.6.6.6".parse().unwrap());
        headers.append("x-forwarded-for", "203.0.113.9".parse().unwrap());
        assert_eq!(client_ip(None, peer, &headers), Some(peer.ip()));
        let xff = ClientAddrSource::Header {
            name: "x-forwarded-for".into(),
            hops: 1,
        };
        assert_eq!(
            client_ip(Some(&xff), peer, &headers),
            "203.0.113.9".parse().ok()
        );
        assert_eq!(client_ip(Some(&xff), peer, &HeaderMap::new()), None);
    }
}

//! Prometheus counters, rendered by hand in the text exposition format.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

macro_rules! metrics {
    ($( $(#[$doc:meta])* $name:ident : $kind:ident = $prom:literal, $help:literal; )*) => {
        /// The node's counters and gauges.
        #[derive(Debug, Default)]
        pub struct Metrics {
            $( $(#[$doc])* pub $name: metrics!(@ty $kind), )*
        }

        impl Metrics {
            /// Prometheus text format.
            #[allow(unused_assignments)]
            pub fn render(&self) -> String {
                let mut out = String::with_capacity(4096);
                let mut last = "";
                $(
                    let base = metrics!(@base $prom);
                    if base != last {
                        let _ = writeln!(out, "# HELP {} {}", base, $help);
                        let _ = writeln!(out, "# TYPE {} {}", base, stringify!($kind));
                        last = base;
                    }
                    let _ = writeln!(out, "{} {}", $prom, self.$name.load(Relaxed));
                )*
                out
            }
        }
    };
    (@ty counter) => { AtomicU64 };
    (@ty gauge) => { AtomicI64 };
    (@base $prom:literal) => { match $prom.find('{') { Some(i) => &$prom[..i], None => $prom } };
}

metrics! {
    /// Open WebSocket connections.
    sockets: gauge = "relay_sockets", "Open WebSocket connections";
    /// Rooms with state on this node.
    rooms: gauge = "relay_rooms", "Rooms this node holds members of or watches";
    /// Members joined on this node.
    members: gauge = "relay_members", "Members connected to this node";
    /// Frames received from clients.
    frames_in: counter = "relay_frames_in_total", "Frames received from clients";
    /// Frames written to clients.
    frames_out: counter = "relay_frames_out_total", "Frames sent to clients";
    /// Batches of frames written to clients (one flush, one `write` each).
    socket_writes: counter = "relay_socket_writes_total", "Batches of frames written to clients, one write each";
    /// Messages published to Redis.
    published: counter = "relay_redis_published_total", "Messages published on room channels";
    /// Publishes that failed.
    publish_errors: counter = "relay_redis_publish_errors_total", "Messages that could not be published";
    /// Messages dropped because Redis lagged by more than the publish queue.
    publish_dropped: counter = "relay_redis_publish_dropped_total", "Messages dropped because the publish queue was full";
    /// Messages dropped because the subscriber lagged by more than its queue.
    received_dropped: counter = "relay_redis_received_dropped_total", "Messages dropped because the subscription queue was full";
    /// Messages received from Redis subscriptions.
    received: counter = "relay_redis_received_total", "Messages received on subscribed room channels";
    /// Current channel subscriptions.
    subscriptions: gauge = "relay_redis_subscriptions", "Room channels this node is subscribed to";
    /// Whether the subscription connection is up.
    redis_up: gauge = "relay_redis_up", "1 while the pub/sub connection to Redis is up";
    /// Successful joins.
    joins_ok: counter = "relay_joins_total{result=\"ok\"}", "Join attempts by result";
    /// Refused tickets.
    joins_invalid: counter = "relay_joins_total{result=\"invalid_ticket\"}", "Join attempts by result";
    /// Full rooms.
    joins_full: counter = "relay_joins_total{result=\"room_full\"}", "Join attempts by result";
    /// Joins that failed on Redis.
    joins_unavailable: counter = "relay_joins_total{result=\"unavailable\"}", "Join attempts by result";
    /// Frames dropped over the rate limit.
    drop_rate: counter = "relay_dropped_total{reason=\"rate_limited\"}", "Frames or sockets dropped by reason";
    /// Sockets cut off as slow readers.
    drop_slow: counter = "relay_dropped_total{reason=\"slow_reader\"}", "Frames or sockets dropped by reason";
    /// Frames over the size limit.
    drop_large: counter = "relay_dropped_total{reason=\"too_large\"}", "Frames or sockets dropped by reason";
    /// Malformed frames.
    drop_protocol: counter = "relay_dropped_total{reason=\"protocol\"}", "Frames or sockets dropped by reason";
    /// Connections refused for their Origin.
    drop_origin: counter = "relay_dropped_total{reason=\"bad_origin\"}", "Frames or sockets dropped by reason";
    /// Connections dropped for silence.
    drop_timeout: counter = "relay_dropped_total{reason=\"timeout\"}", "Frames or sockets dropped by reason";
    /// Frames not published: their room was over its publish budget.
    drop_room_budget: counter = "relay_dropped_total{reason=\"room_publish_budget\"}", "Frames or sockets dropped by reason";
    /// Chunk frames dropped for a receiver whose chunk queue was full.
    drop_chunk_slow: counter = "relay_dropped_total{reason=\"chunk_slow_reader\"}", "Frames or sockets dropped by reason";
    /// Chunk frames not published: the node's publish queue was half full.
    drop_chunk_backlog: counter = "relay_dropped_total{reason=\"chunk_publish_backlog\"}", "Frames or sockets dropped by reason";
    /// Chunk frames dropped: their room reached its file-byte limit.
    drop_file_limit: counter = "relay_dropped_total{reason=\"room_file_limit\"}", "Frames or sockets dropped by reason";
    /// Room tasks started (only for redeemed tickets).
    room_tasks: counter = "relay_room_tasks_started_total", "Room tasks started on this node (each after a redeemed ticket)";
    /// Connections closed at accept: the node held as many as it may.
    refused_node_full: counter = "relay_refused_total{reason=\"node_full\"}", "Connections refused before the upgrade by reason";
    /// Upgrades answered 429: the client address held as many sockets as it may.
    refused_addr_cap: counter = "relay_refused_total{reason=\"address_cap\"}", "Connections refused before the upgrade by reason";
    /// Rooms that ended while this node held them.
    rooms_ended: counter = "relay_rooms_ended_total", "Rooms closed on this node because they ended";
    /// END_ROOM runs by this node.
    end_room_runs: counter = "relay_end_room_total", "END_ROOM scripts run by this node";
    /// File-chunk frames received from clients and relayed.
    chunks_in: counter = "relay_chunks_in_total", "File-chunk frames received from clients and relayed";
    /// Their payload bytes.
    chunk_bytes_in: counter = "relay_chunk_bytes_in_total", "Payload bytes of file-chunk frames received from clients and relayed";
    /// Chunk frames after which the sender's socket was read more slowly (byte budgets).
    chunk_throttled: counter = "relay_chunk_throttled_total", "File-chunk frames after which the sender was paused by a byte budget";
}

/// Adds one to a counter.
pub(crate) fn inc(c: &AtomicU64) {
    c.fetch_add(1, Relaxed);
}

/// Adds `n` to a gauge (negative to subtract).
pub(crate) fn add(g: &AtomicI64, n: i64) {
    g.fetch_add(n, Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family_once() {
        let m = Metrics::default();
        inc(&m.joins_ok);
        add(&m.sockets, 3);
        let text = m.render();
        assert!(text.contains("relay_sockets 3\n"));
        assert!(text.contains("relay_joins_total{result=\"ok\"} 1\n"));
        assert_eq!(
            text.matches("# TYPE relay_joins_total counter\n").count(),
            1
        );
        assert_eq!(
            text.matches("# TYPE relay_dropped_total counter\n").count(),
            1
        );
    }
}

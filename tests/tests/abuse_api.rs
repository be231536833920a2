//! Hostile clients of the HTTP side, through the real host running the real
//! components against the real Redis: forged addresses and paths sent in the
//! order real Spin delivers them (the client's values first, the host's
//! last), a join flood on one room, the global create budget, and clients
//! that hold the host's connections and request slots. Counts and states
//! are asserted, never times.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use vroom_shared::redis::{GLOBAL_BUCKET, RateAction, RateKeySecret, rate_key, ticket_key};
use vroom_shared::{RoomId, Ticket};
use vroom_system_tests::{Host, client, new_room, redis, repo_root, room_keys};

/// A client whose connections come from `127.0.0.<n>` (n ≥ 2).
fn client_at(n: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)))
        .build()
        .unwrap()
}

async fn create(client: &reqwest::Client, host: &Host, headers: &[(&str, String)]) -> Created {
    let (room_id, join_key) = new_room();
    let mut request = client
        .post(host.url("/api/rooms"))
        .json(&json!({ "room_id": room_id, "join_key": join_key }));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    Created {
        status,
        room_id,
        join_key,
        token: body["creator_token"].as_str().map(str::to_owned),
        ticket: body["ticket"].as_str().map(str::to_owned),
    }
}

struct Created {
    status: StatusCode,
    room_id: String,
    join_key: String,
    token: Option<String>,
    ticket: Option<String>,
}

impl Created {
    /// Ends the room if it was created; every key of it is gone.
    async fn end(&self, host: &Host) {
        if let Some(token) = &self.token {
            let response = client()
                .delete(host.url(&format!("/api/rooms/{}", self.room_id)))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::NO_CONTENT);
        }
        assert!(room_keys(&self.room_id).await.is_empty());
    }
}

#[tokio::test]
async fn a_forged_spin_client_addr_does_not_choose_the_bucket() {
    let host = Host::start(&[("rate_create_per_min", "3")]).await;
    let attacker = client();
    let mut rooms = Vec::new();
    for n in 0..6 {
        // What a client sends comes first; the host appends its own value.
        let forged = vec![
            ("spin-client-addr", format!("10.{n}.0.1:1234")),
            ("x-forwarded-for", format!("10.{n}.0.2")),
        ];
        rooms.push(create(&attacker, &host, &forged).await);
    }
    let statuses: Vec<u16> = rooms.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses, [201, 201, 201, 429, 429, 429]);
    // Another address still creates.
    let other = create(&client(), &host, &[]).await;
    assert_eq!(other.status, StatusCode::CREATED);
    rooms.push(other);
    for room in &rooms {
        room.end(&host).await;
    }
}

#[tokio::test]
async fn a_forwarding_header_is_read_trusted_hops_from_the_right() {
    let host = Host::start(&[
        ("client_addr_source", "header"),
        ("client_addr_header", "X-Forwarded-For"),
        ("client_addr_trusted_hops", "2"),
        ("rate_create_per_min", "2"),
        ("rate_create_unknown_per_min", "1"),
        ("rate_create_v6_56_per_min", "3"),
    ])
    .await;
    // Every request comes through the same "proxy" connection.
    let proxy = client();
    let via = |chain: String| vec![("x-forwarded-for", chain)];
    let mut rooms = Vec::new();
    let mut statuses = Vec::new();
    for n in 0..4 {
        // The client forges the left part; two proxies appended the rest.
        let room = create(
            &proxy,
            &host,
            &via(format!("6.6.{n}.6, 198.51.100.7, 10.0.0.1")),
        )
        .await;
        statuses.push(room.status.as_u16());
        rooms.push(room);
    }
    assert_eq!(statuses, [201, 201, 429, 429], "one client, limit 2");
    let neighbour = create(&proxy, &host, &via("198.51.100.8, 10.0.0.1".into())).await;
    assert_eq!(neighbour.status, StatusCode::CREATED, "another client");
    rooms.push(neighbour);

    // Too few entries, a malformed one, or no header: one shared bucket.
    let mut statuses = Vec::new();
    for chain in ["10.0.0.1", "garbage, 10.0.0.1", ""] {
        let headers = if chain.is_empty() {
            vec![]
        } else {
            via(chain.into())
        };
        let room = create(&proxy, &host, &headers).await;
        statuses.push(room.status.as_u16());
        rooms.push(room);
    }
    assert_eq!(statuses, [201, 429, 429], "the unknown bucket, limit 1");

    // IPv6 clients count at /64, /56 and /48: three /64s of one /56.
    let mut statuses = Vec::new();
    for n in 0..4 {
        let chain = format!("2001:db8:7:1{n}::1, 10.0.0.1");
        let room = create(&proxy, &host, &via(chain)).await;
        statuses.push(room.status.as_u16());
        rooms.push(room);
    }
    assert_eq!(statuses, [201, 201, 201, 429], "the /56, limit 3");
    for room in &rooms {
        room.end(&host).await;
    }
}

#[tokio::test]
async fn a_forged_spin_path_info_does_not_choose_the_file() {
    let host = Host::start(&[]).await;
    let client = client();
    let index = client.get(host.url("/")).send().await.unwrap();
    let html = index.text().await.unwrap();
    let css = html
        .split("rel=\"stylesheet\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a stylesheet link")
        .to_owned();
    for (path, forged, content_type) in [
        ("/", css.as_str(), "text/html; charset=utf-8"),
        (css.as_str(), "/index.html", "text/css; charset=utf-8"),
        ("/missing.js", "/index.html", "text/plain; charset=utf-8"),
    ] {
        let response = client
            .get(host.url(path))
            .header("spin-path-info", forged)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["content-type"],
            content_type,
            "{path} with spin-path-info {forged}"
        );
    }
}

#[tokio::test]
async fn five_thousand_joins_of_one_room_leave_at_most_the_cap_of_tickets() {
    const ATTEMPTS: usize = 5_000;
    const MAX_MEMBERS: usize = 4;
    let host = Host::start(&[("room_max_members", "4"), ("rate_join_per_min", "1000000")]).await;
    let owner = client();
    let flooded = create(&owner, &host, &[]).await;
    let bystander = create(&owner, &host, &[]).await;
    assert_eq!(
        (flooded.status, bystander.status),
        (StatusCode::CREATED, StatusCode::CREATED)
    );

    let url = host.url(&format!("/api/rooms/{}/join", flooded.room_id));
    let body = json!({ "join_key": flooded.join_key });
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for worker in 0..16u8 {
        let (url, body, next) = (url.clone(), body.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let client = client_at(10 + worker);
            let mut counts = [0usize; 3];
            while next.fetch_add(1, Ordering::Relaxed) < ATTEMPTS {
                let response = client.post(&url).json(&body).send().await.unwrap();
                let status = response.status();
                let reply: Value = response.json().await.unwrap();
                match status {
                    StatusCode::OK => counts[0] += 1,
                    StatusCode::TOO_MANY_REQUESTS => {
                        assert_eq!(reply["error"]["code"], "rate_limited");
                        counts[1] += 1;
                    }
                    _ => counts[2] += 1,
                }
            }
            counts
        }));
    }
    let mut counts = [0usize; 3];
    for worker in workers {
        for (total, n) in counts.iter_mut().zip(worker.await.unwrap()) {
            *total += n;
        }
    }
    // max_members × 2 tickets, the creator's included. Tickets live 30 s:
    // while the creator's (issued first) is outstanding, none has expired,
    // and exactly the cap was ever issued.
    let cap = MAX_MEMBERS * 2;
    let mut redis = redis().await;
    let creator_ticket = Ticket::parse(flooded.ticket.as_deref().unwrap()).unwrap();
    let room = RoomId::parse(&flooded.room_id).unwrap();
    let none_expired: bool = redis::cmd("EXISTS")
        .arg(ticket_key(&room, &creator_ticket))
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(counts[0] + counts[1], ATTEMPTS, "{counts:?}");
    assert_eq!(counts[2], 0);
    if none_expired {
        assert_eq!(counts[0], cap - 1);
    } else {
        assert!(counts[0] >= cap - 1, "{counts:?}");
    }
    let listed: usize = redis::cmd("ZCARD")
        .arg(format!("vroom:{{{}}}:tickets", flooded.room_id))
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(
        listed <= cap && (listed == cap || !none_expired),
        "{listed}"
    );
    let keys = room_keys(&flooded.room_id).await;
    let tickets = keys.iter().filter(|k| k.contains(":ticket:")).count();
    assert_eq!((tickets, keys.len()), (listed, listed + 2), "{keys:?}");

    // Another room does not notice.
    let response = owner
        .post(host.url(&format!("/api/rooms/{}/join", bystander.room_id)))
        .json(&json!({ "join_key": bystander.join_key }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    flooded.end(&host).await;
    bystander.end(&host).await;
}

#[tokio::test]
async fn the_global_create_budget_holds_across_addresses() {
    let host = Host::start(&[("rate_create_global_per_min", "5")]).await;
    let mut rooms = Vec::new();
    for n in 0..8u8 {
        rooms.push(create(&client_at(100 + n), &host, &[]).await);
    }
    let created = rooms
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let refused = rooms
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((created, refused), (5, 3));
    for room in rooms.iter().filter(|r| r.token.is_none()) {
        assert!(room_keys(&room.room_id).await.is_empty());
    }
    // The budget's counter is a keyed name: this host's secret, never shared.
    let secret = RateKeySecret::new(host.rate_key_secret.clone()).unwrap();
    let count: Option<u32> = redis::cmd("GET")
        .arg(rate_key(RateAction::Create, &secret, GLOBAL_BUCKET))
        .query_async(&mut redis().await)
        .await
        .unwrap();
    assert_eq!(count, Some(5), "refused creates count nowhere");
    for room in &rooms {
        room.end(&host).await;
    }
}

/// Sends `piece` every 100 ms until the host closes the connection; returns
/// what the host sent meanwhile. Fails if the host never closes it.
async fn trickle(stream: &mut TcpStream, piece: &[u8]) -> String {
    let mut answer = Vec::new();
    let mut sent = 0;
    loop {
        let mut buf = [0u8; 1024];
        tokio::select! {
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            },
            () = tokio::time::sleep(std::time::Duration::from_millis(100)) => {
                if stream.write_all(piece).await.is_err() {
                    break;
                }
                sent += 1;
                assert!(sent < 300, "the host never cut the request");
            }
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_request_head_sent_slowly_is_cut() {
    let host = Host::start_with(
        &repo_root().join("spin.toml"),
        &[],
        &["--header-timeout", "1"],
    )
    .await;
    let mut stream = TcpStream::connect(host.base.trim_start_matches("http://"))
        .await
        .unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nhost: vroom\r\n")
        .await
        .unwrap();
    // Trickle header lines and never end the head; the host hangs up.
    let answer = trickle(&mut stream, b"x-slow: 1\r\n").await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "the host answered a request whose head never ended: {answer}"
    );
    // A normal request still works.
    let response = client().get(host.url("/")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_request_body_sent_slowly_is_cut_with_408() {
    let host = Host::start_with(
        &repo_root().join("spin.toml"),
        &[],
        &["--body-timeout", "1"],
    )
    .await;
    let mut stream = TcpStream::connect(host.base.trim_start_matches("http://"))
        .await
        .unwrap();
    stream
        .write_all(
            b"POST /api/rooms HTTP/1.1\r\nhost: vroom\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{",
        )
        .await
        .unwrap();
    let answer = trickle(&mut stream, b" ").await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
}

#[tokio::test]
async fn connections_past_the_cap_get_503_and_a_normal_request_works_after() {
    const CAP: usize = 4;
    let host = Host::start_with(
        &repo_root().join("spin.toml"),
        &[],
        &["--max-connections", "4", "--header-timeout", "60"],
    )
    .await;
    let address = host.base.trim_start_matches("http://").to_owned();
    // CAP connections that send nothing hold every slot (they are accepted
    // in order, before the ones below).
    let mut held = Vec::new();
    for _ in 0..CAP {
        held.push(TcpStream::connect(&address).await.unwrap());
    }
    let mut refused = 0;
    for _ in 0..6 {
        let response = reqwest::Client::new()
            .get(host.url("/"))
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(response.headers()["retry-after"], "1");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"]["code"], "unavailable");
            refused += 1;
        }
    }
    assert_eq!(refused, 6, "every connection past the cap gets 503");
    // Slots free as the held connections close.
    drop(held);
    let mut attempts = 0;
    loop {
        let response = reqwest::Client::new()
            .get(host.url("/"))
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::OK {
            break;
        }
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        attempts += 1;
        assert!(attempts < 100, "the slots never came back");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A "Redis" that answers every command with `+OK` except `PING`, which it
/// never answers; counts the PINGs it holds.
async fn redis_that_holds_pings() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let pings = Arc::new(AtomicUsize::new(0));
    let counter = pings.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut pending = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = socket.read(&mut buf).await {
                    pending.extend_from_slice(&buf[..n]);
                    while let Some((command, used)) = resp_command(&pending) {
                        pending.drain(..used);
                        if command.eq_ignore_ascii_case("ping") {
                            counter.fetch_add(1, Ordering::SeqCst);
                        } else if socket.write_all(b"+OK\r\n").await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    (address, pings)
}

/// The name of the first complete RESP command in `bytes` and the bytes it
/// takes.
fn resp_command(bytes: &[u8]) -> Option<(String, usize)> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut lines = text.split_inclusive("\r\n");
    let header = lines.next()?;
    let count: usize = header.strip_prefix('*')?.trim_end().parse().ok()?;
    let mut used = header.len();
    let mut name = None;
    for _ in 0..count {
        let length = lines.next().filter(|l| l.ends_with("\r\n"))?;
        let data = lines.next().filter(|l| l.ends_with("\r\n"))?;
        used += length.len() + data.len();
        name.get_or_insert_with(|| data.trim_end().to_owned());
    }
    Some((name?, used))
}

#[tokio::test]
async fn requests_past_the_in_flight_cap_get_503_before_any_guest_runs() {
    let (redis_address, pings) = redis_that_holds_pings().await;
    let host = Host::start_with(
        &repo_root().join("spin.toml"),
        &[("redis_url", &format!("redis://{redis_address}"))],
        &["--max-in-flight", "2", "--request-timeout", "60"],
    )
    .await;
    // Two health checks run their guest and wait for a PING reply.
    let mut hung = Vec::new();
    for _ in 0..2 {
        let url = host.url("/api/health");
        hung.push(tokio::spawn(async move {
            client().get(url).send().await.unwrap().status()
        }));
    }
    let mut waits = 0;
    while pings.load(Ordering::SeqCst) < 2 {
        waits += 1;
        assert!(waits < 600, "the guests never reached Redis");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Both slots are taken (each PING was sent by a running guest; Redis
    // replies, and so the slots, are held for the host's 5 s Redis timeout).
    let probes = (0..5).map(|_| client().get(host.url("/")).send());
    let statuses: Vec<StatusCode> = futures_util::future::join_all(probes)
        .await
        .into_iter()
        .map(|r| r.unwrap().status())
        .collect();
    assert_eq!(statuses, [StatusCode::SERVICE_UNAVAILABLE; 5]);
    // When the held requests end, requests run again.
    for request in hung {
        assert!(request.await.unwrap().is_server_error());
    }
    let response = client().get(host.url("/")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

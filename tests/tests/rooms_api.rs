//! The rooms API (DESIGN §6) through the real host running the real
//! `vroom_rooms_component.wasm` against the real Redis.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use vroom_system_tests::{Host, client, new_room, random_b64, redis, room_keys};

async fn post(client: &reqwest::Client, url: &str, body: Value) -> (StatusCode, Value) {
    let response = client
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("request sent");
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn delete(client: &reqwest::Client, url: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut request = client.delete(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("<no error code>")
}

#[tokio::test]
async fn create_join_end_leaves_nothing_in_redis() {
    let host = Host::start(&[]).await;
    let client = client();
    let (room_id, join_key) = new_room();

    let (status, created) = post(
        &client,
        &host.url("/api/rooms"),
        json!({ "room_id": room_id, "join_key": join_key, "lifetime_secs": 600 }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["room_id"], room_id);
    let creator_token = created["creator_token"]
        .as_str()
        .expect("creator token")
        .to_string();
    assert_eq!(creator_token.len(), 43);
    assert_eq!(created["ticket"].as_str().expect("ticket").len(), 43);
    assert!(created["relay"].as_str().expect("relay").starts_with("ws"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expires_at = created["expires_at"].as_u64().expect("expires_at");
    assert!(
        (now + 590..=now + 610).contains(&expires_at),
        "{expires_at} vs {now}"
    );

    // Redis holds hashes, never the join key, creator token or ticket.
    let keys = room_keys(&room_id).await;
    assert!(!keys.is_empty());
    let mut redis = redis().await;
    for key in &keys {
        let ttl: i64 = redis::cmd("PTTL")
            .arg(key)
            .query_async(&mut redis)
            .await
            .unwrap();
        assert!(ttl > 0, "{key} has no TTL");
        let dump: Vec<u8> = redis::cmd("DUMP")
            .arg(key)
            .query_async(&mut redis)
            .await
            .unwrap();
        for secret in [
            &join_key,
            &creator_token,
            created["ticket"].as_str().unwrap(),
        ] {
            assert!(!contains(&dump, secret.as_bytes()), "{key} stores a secret");
            assert!(!key.contains(secret), "{key} names a secret");
        }
    }

    let (status, joined) = post(
        &client,
        &host.url(&format!("/api/rooms/{room_id}/join")),
        json!({ "join_key": join_key }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(joined["room_id"], room_id);
    assert_eq!(joined["expires_at"], created["expires_at"]);
    assert_eq!(joined["members"], 0);
    assert_ne!(joined["ticket"], created["ticket"]);
    assert!(joined.get("creator_token").is_none());

    let (status, _) = delete(
        &client,
        &host.url(&format!("/api/rooms/{room_id}")),
        Some(&creator_token),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(room_keys(&room_id).await, Vec::<String>::new());

    // Ended is ended: joining and ending again are both "no such room".
    let (status, body) = post(
        &client,
        &host.url(&format!("/api/rooms/{room_id}/join")),
        json!({ "join_key": join_key }),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let (status, _) = delete(
        &client,
        &host.url(&format!("/api/rooms/{room_id}")),
        Some(&creator_token),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[tokio::test]
async fn wrong_join_key_and_unknown_room_look_the_same() {
    let host = Host::start(&[]).await;
    let client = client();
    let (room_id, join_key) = new_room();
    let (status, _) = post(
        &client,
        &host.url("/api/rooms"),
        json!({ "room_id": room_id, "join_key": join_key }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let wrong = client
        .post(host.url(&format!("/api/rooms/{room_id}/join")))
        .json(&json!({ "join_key": random_b64(32) }))
        .send()
        .await
        .unwrap();
    let (unknown_id, _) = new_room();
    let unknown = client
        .post(host.url(&format!("/api/rooms/{unknown_id}/join")))
        .json(&json!({ "join_key": join_key }))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(wrong.text().await.unwrap(), unknown.text().await.unwrap());

    // A wrong creator token with the right join key is also "not found".
    let (status, _) = post(
        &client,
        &host.url(&format!("/api/rooms/{room_id}/join")),
        json!({ "join_key": join_key, "creator_token": random_b64(32) }),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn ending_needs_the_creator_token() {
    let host = Host::start(&[]).await;
    let client = client();
    let (room_id, join_key) = new_room();
    let (_, created) = post(
        &client,
        &host.url("/api/rooms"),
        json!({ "room_id": room_id, "join_key": join_key }),
    )
    .await;
    let url = host.url(&format!("/api/rooms/{room_id}"));

    let (status, body) = delete(&client, &url, None).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let (status, body) = delete(&client, &url, Some(&random_b64(32))).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let (status, body) = delete(&client, &url, Some(&join_key)).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "not_found")
    );
    assert!(
        !room_keys(&room_id).await.is_empty(),
        "the room must still be live"
    );

    // The creator token also brings the creator back in (a reload).
    let creator_token = created["creator_token"].as_str().unwrap();
    let (status, rejoined) = post(
        &client,
        &host.url(&format!("/api/rooms/{room_id}/join")),
        json!({ "join_key": join_key, "creator_token": creator_token }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rejoined}");

    let (status, _) = delete(&client, &url, Some(creator_token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(room_keys(&room_id).await.is_empty());
}

#[tokio::test]
async fn create_or_join_and_plain_create_conflict() {
    let host = Host::start(&[]).await;
    let client = client();
    let (room_id, join_key) = new_room();
    let body = json!({ "room_id": room_id, "join_key": join_key, "mode": "create_or_join" });

    let (status, first) = post(&client, &host.url("/api/rooms"), body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert!(first["creator_token"].is_string());

    let (status, second) = post(&client, &host.url("/api/rooms"), body).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert!(second.get("creator_token").is_none());
    assert_eq!(second["expires_at"], first["expires_at"]);
    assert_ne!(second["ticket"], first["ticket"]);

    let (status, conflict) = post(
        &client,
        &host.url("/api/rooms"),
        json!({ "room_id": room_id, "join_key": join_key }),
    )
    .await;
    assert_eq!(
        (status, error_code(&conflict)),
        (StatusCode::CONFLICT, "room_exists")
    );

    let token = first["creator_token"].as_str().unwrap();
    delete(
        &client,
        &host.url(&format!("/api/rooms/{room_id}")),
        Some(token),
    )
    .await;
    assert!(room_keys(&room_id).await.is_empty());

    // After it ends, the same credentials create the room afresh.
    let (status, again) = post(
        &client,
        &host.url("/api/rooms"),
        json!({ "room_id": room_id, "join_key": join_key, "mode": "create_or_join" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    let token = again["creator_token"].as_str().unwrap();
    delete(
        &client,
        &host.url(&format!("/api/rooms/{room_id}")),
        Some(token),
    )
    .await;
}

#[tokio::test]
async fn lifetime_expiry_leaves_nothing() {
    let host = Host::start(&[("room_lifetime_default_secs", "2")]).await;
    let client = client();
    let (room_id, join_key) = new_room();
    let (status, created) = post(
        &client,
        &host.url("/api/rooms"),
        json!({ "room_id": room_id, "join_key": join_key }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(!room_keys(&room_id).await.is_empty());

    tokio::time::sleep(Duration::from_millis(3200)).await;
    assert_eq!(room_keys(&room_id).await, Vec::<String>::new());
    let (status, _) = post(
        &client,
        &host.url(&format!("/api/rooms/{room_id}/join")),
        json!({ "join_key": join_key }),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn member_cap_is_enforced() {
    let host = Host::start(&[("room_max_members", "2")]).await;
    let client = client();
    let (room_id, join_key) = new_room();
    let (_, created) = post(
        &client,
        &host.url("/api/rooms"),
        json!({ "room_id": room_id, "join_key": join_key }),
    )
    .await;
    let join_url = host.url(&format!("/api/rooms/{room_id}/join"));

    // Two members present (as the relay records them).
    let mut redis = redis().await;
    let presence = format!("vroom:{{{room_id}}}:presence");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let _: () = redis::cmd("ZADD")
        .arg(&presence)
        .arg(now_ms)
        .arg("1")
        .arg(now_ms)
        .arg("2")
        .query_async(&mut redis)
        .await
        .unwrap();
    let _: () = redis::cmd("EXPIRE")
        .arg(&presence)
        .arg(600)
        .query_async(&mut redis)
        .await
        .unwrap();

    let (status, body) = post(&client, &join_url, json!({ "join_key": join_key })).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "room_full")
    );

    let _: () = redis::cmd("ZREM")
        .arg(&presence)
        .arg("2")
        .query_async(&mut redis)
        .await
        .unwrap();
    // One seat is free, but it is kept for the creator while no creator
    // connection is present; once member 1 is the creator, it is anyone's.
    let (status, body) = post(&client, &join_url, json!({ "join_key": join_key })).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::CONFLICT, "room_full")
    );
    let _: () = redis::cmd("HSET")
        .arg(format!("vroom:{{{room_id}}}:room"))
        .arg("creator_member")
        .arg("1")
        .query_async(&mut redis)
        .await
        .unwrap();
    let (status, body) = post(&client, &join_url, json!({ "join_key": join_key })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["members"], 1);

    let token = created["creator_token"].as_str().unwrap();
    delete(
        &client,
        &host.url(&format!("/api/rooms/{room_id}")),
        Some(token),
    )
    .await;
    assert!(room_keys(&room_id).await.is_empty());
}

#[tokio::test]
async fn create_and_join_are_rate_limited_per_client_address() {
    let host = Host::start(&[("rate_create_per_min", "3"), ("rate_join_per_min", "2")]).await;
    let limited = client();
    let mut rooms = Vec::new();
    for _ in 0..3 {
        let (room_id, join_key) = new_room();
        // A client cannot pose as another address through Spin's headers.
        let response = limited
            .post(host.url("/api/rooms"))
            .header("spin-client-addr", format!("10.9.8.{}:1234", rooms.len()))
            .json(&json!({ "room_id": room_id, "join_key": join_key }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        rooms.push((
            room_id,
            join_key,
            body["creator_token"].as_str().unwrap().to_string(),
        ));
    }
    let (room_id, join_key) = new_room();
    let response = limited
        .post(host.url("/api/rooms"))
        .json(&json!({ "room_id": room_id, "join_key": join_key }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "rate_limited");
    assert!(
        room_keys(&room_id).await.is_empty(),
        "a refused create stores nothing"
    );

    // Another address is not affected.
    let (status, _) = post(
        &client(),
        &host.url("/api/rooms"),
        json!({ "room_id": room_id, "join_key": join_key }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let (first_room, first_key, _) = &rooms[0];
    let join_url = host.url(&format!("/api/rooms/{first_room}/join"));
    for _ in 0..2 {
        let (status, _) = post(&limited, &join_url, json!({ "join_key": first_key })).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, body) = post(&limited, &join_url, json!({ "join_key": first_key })).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );

    for (room_id, _, token) in &rooms {
        delete(
            &limited,
            &host.url(&format!("/api/rooms/{room_id}")),
            Some(token),
        )
        .await;
        assert!(room_keys(room_id).await.is_empty());
    }
}

#[tokio::test]
async fn bad_input_gets_a_json_4xx_and_stores_nothing() {
    let host = Host::start(&[]).await;
    let client = client();
    let (room_id, join_key) = new_room();
    let rooms = host.url("/api/rooms");

    let cases: Vec<(&str, reqwest::RequestBuilder, u16)> = vec![
        (
            "malformed JSON",
            client
                .post(&rooms)
                .header("content-type", "application/json")
                .body("{\"room_id\":"),
            400,
        ),
        (
            "not an object",
            client.post(&rooms).json(&json!([1, 2])),
            400,
        ),
        (
            "unknown field",
            client
                .post(&rooms)
                .json(&json!({ "room_id": room_id, "join_key": join_key, "admin": true })),
            400,
        ),
        (
            "missing field",
            client.post(&rooms).json(&json!({ "room_id": room_id })),
            400,
        ),
        (
            "wrong content type",
            client
                .post(&rooms)
                .header("content-type", "text/plain")
                .body(json!({ "room_id": room_id, "join_key": join_key }).to_string()),
            415,
        ),
        (
            "no content type",
            client
                .post(&rooms)
                .body(json!({ "room_id": room_id, "join_key": join_key }).to_string()),
            415,
        ),
        (
            "oversized body",
            client
                .post(&rooms)
                .header("content-type", "application/json")
                .body(format!("{{\"room_id\":\"{}\"}}", "A".repeat(64 * 1024))),
            413,
        ),
        (
            "short room id",
            client
                .post(&rooms)
                .json(&json!({ "room_id": "abc", "join_key": join_key })),
            400,
        ),
        (
            "room id with bad alphabet",
            client
                .post(&rooms)
                .json(&json!({ "room_id": "!!!!!!!!!!!!!!!!!!!!!!", "join_key": join_key })),
            400,
        ),
        (
            "padded join key",
            client
                .post(&rooms)
                .json(&json!({ "room_id": room_id, "join_key": format!("{join_key}=") })),
            400,
        ),
        (
            "lifetime too long",
            client.post(&rooms).json(
                &json!({ "room_id": room_id, "join_key": join_key, "lifetime_secs": 10_000_000 }),
            ),
            400,
        ),
        (
            "negative lifetime",
            client
                .post(&rooms)
                .json(&json!({ "room_id": room_id, "join_key": join_key, "lifetime_secs": -5 })),
            400,
        ),
        (
            "unknown mode",
            client
                .post(&rooms)
                .json(&json!({ "room_id": room_id, "join_key": join_key, "mode": "steal" })),
            400,
        ),
        (
            "bad id in join path",
            client
                .post(host.url("/api/rooms/not-a-room/join"))
                .json(&json!({ "join_key": join_key })),
            400,
        ),
        (
            "bad id in end path",
            client
                .delete(host.url("/api/rooms/%00%00"))
                .bearer_auth(random_b64(32)),
            400,
        ),
        (
            "malformed bearer",
            client
                .delete(host.url(&format!("/api/rooms/{room_id}")))
                .header("authorization", "Basic abc"),
            404,
        ),
        ("wrong method", client.get(&rooms), 405),
        (
            "unknown API path",
            client.get(host.url("/api/nothing-here")),
            404,
        ),
    ];
    for (name, request, expected) in cases {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let wanted = if expected == 400 {
            [400, 404]
        } else {
            [expected, expected]
        };
        assert!(
            wanted.contains(&status),
            "{name}: expected {expected}, got {status} {body}"
        );
        assert_eq!(content_type.as_deref(), Some("application/json"), "{name}");
        assert!(
            body["error"]["code"].is_string() && body["error"]["message"].is_string(),
            "{name}: {body}"
        );
    }
    assert!(
        room_keys(&room_id).await.is_empty(),
        "bad requests stored something"
    );
}

#[tokio::test]
async fn health_reports_redis_reachability() {
    let host = Host::start(&[]).await;
    let response = client().get(host.url("/api/health")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "ok": true })
    );

    // Nothing listens on this port: the API must say "unavailable", not hang or 500.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let host = Host::start(&[("redis_url", &format!("redis://127.0.0.1:{closed_port}"))]).await;
    let response = client().get(host.url("/api/health")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "unavailable");
    let (room_id, join_key) = new_room();
    let (status, body) = post(
        &client(),
        &host.url("/api/rooms"),
        json!({ "room_id": room_id, "join_key": join_key }),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    );
}

/// A `redis-server` of this test's own on a free port (nothing saved),
/// killed when dropped: its script cache starts empty and its command
/// counters count this test's calls alone.
struct FreshRedis {
    child: std::process::Child,
    port: u16,
    _dir: vroom_system_tests::TempDir,
}

impl FreshRedis {
    fn start() -> Self {
        let port = vroom_system_tests::free_port();
        let dir = vroom_system_tests::TempDir::new("vroom-evalsha-redis");
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(dir.path())
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server on PATH");
        Self {
            child,
            port,
            _dir: dir,
        }
    }

    async fn connection(&self) -> redis::aio::MultiplexedConnection {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}", self.port)).unwrap();
        for _ in 0..100 {
            if let Ok(con) = client.get_multiplexed_async_connection().await {
                return con;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the private redis-server does not answer");
    }
}

impl Drop for FreshRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `calls` (plus `rejected_calls`) of `command` in `INFO commandstats`.
async fn command_calls(con: &mut redis::aio::MultiplexedConnection, command: &str) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(con)
        .await
        .unwrap();
    let Some(line) = info
        .lines()
        .find_map(|line| line.strip_prefix(&format!("cmdstat_{command}:")))
    else {
        return 0;
    };
    line.split(',')
        .filter_map(|field| field.split_once('='))
        .filter(|(name, _)| matches!(*name, "calls" | "rejected_calls"))
        .map(|(_, value)| value.parse::<u64>().unwrap())
        .sum()
}

/// Every API call names its script by `EVALSHA`; a Redis that does not hold
/// a script yet (here: a fresh one) gets its text by `EVAL` once, through
/// the real host and component (Redis' `NOSCRIPT` recognised as it reaches
/// the guest).
#[tokio::test]
async fn scripts_run_by_evalsha_and_are_sent_once() {
    let redis = FreshRedis::start();
    let mut con = redis.connection().await;
    let address = format!("127.0.0.1:{}", redis.port);
    let host = Host::start(&[("redis_url", &format!("redis://{address}"))]).await;
    let client = client();
    let mut calls = 0;
    for lock_and_remove in [true, false] {
        let (room_id, join_key) = new_room();
        let (status, created) = post(
            &client,
            &host.url("/api/rooms"),
            json!({"room_id": room_id, "join_key": join_key}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let token = created["creator_token"].as_str().unwrap().to_owned();
        let (status, joined) = post(
            &client,
            &host.url(&format!("/api/rooms/{room_id}/join")),
            json!({"join_key": join_key}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{joined}");
        calls += 4; // RATE_LIMIT and CREATE_ROOM, RATE_LIMIT and JOIN_ROOM
        if lock_and_remove {
            let response = client
                .post(host.url(&format!("/api/rooms/{room_id}/lock")))
                .bearer_auth(&token)
                .json(&json!({"locked": true}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let response = client
                .post(host.url(&format!("/api/rooms/{room_id}/remove")))
                .bearer_auth(&token)
                .json(&json!({"member": 7}))
                .send()
                .await
                .unwrap();
            let body: Value = response.json().await.unwrap();
            assert_eq!(error_code(&body), "no_such_member");
            calls += 2; // LOCK_ROOM, EXPEL_MEMBER
        }
        let (status, _) = delete(
            &client,
            &host.url(&format!("/api/rooms/{room_id}")),
            Some(&token),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        calls += 1; // END_ROOM
    }
    // Six scripts, each sent once; every call tried EVALSHA first.
    assert_eq!(command_calls(&mut con, "eval").await, 6);
    assert_eq!(command_calls(&mut con, "evalsha").await, calls);
}

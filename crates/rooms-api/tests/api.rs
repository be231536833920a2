//! `handle` against the real Redis (`REDIS_URL`, default
//! `redis://127.0.0.1:6379`) through a native `Backend` on the `redis`
//! crate. Every test uses fresh random room ids and its own client /64, so
//! tests run in parallel with each other and with anything else on that Redis.

use redis::aio::MultiplexedConnection;
use serde_json::{Value as Json, json};
use std::time::Duration;
use tokio::sync::OnceCell;
use vroom_rooms_api::{
    ApiRequest, ApiResponse, Backend, BackendError, Config, MAX_BODY_BYTES, RateLimits, Value,
    handle,
};
use vroom_shared::redis::{TicketGrant, presence_key, room_pattern, ticket_key};
use vroom_shared::{CreatorToken, JoinKey, RoomId, Ticket};
use vroom_test_support::{random, redis_url};

/// A `Backend` on the `redis` crate, connecting on first use like the Spin
/// component does.
struct RedisBackend {
    url: String,
    con: OnceCell<MultiplexedConnection>,
}

impl RedisBackend {
    fn new(url: String) -> Self {
        Self {
            url,
            con: OnceCell::new(),
        }
    }

    async fn con(&self) -> Result<MultiplexedConnection, BackendError> {
        self.con
            .get_or_try_init(|| async {
                redis::Client::open(self.url.as_str())
                    .map_err(|e| BackendError::Redis(e.to_string()))?
                    .get_multiplexed_async_connection()
                    .await
                    .map_err(|e| BackendError::Redis(e.to_string()))
            })
            .await
            .cloned()
    }
}

/// Flattens a reply the way Spin's `execute` does.
fn flatten(value: redis::Value, out: &mut Vec<Value>) -> Result<(), BackendError> {
    match value {
        redis::Value::Nil => out.push(Value::Nil),
        redis::Value::Int(i) => out.push(Value::Int(i)),
        redis::Value::BulkString(b) => out.push(Value::Bytes(b)),
        redis::Value::SimpleString(s) => out.push(Value::Status(s)),
        redis::Value::Okay => out.push(Value::Status("OK".into())),
        redis::Value::Array(items) => {
            for item in items {
                flatten(item, out)?;
            }
        }
        other => return Err(BackendError::Redis(format!("unsupported reply {other:?}"))),
    }
    Ok(())
}

impl RedisBackend {
    /// `command first numkeys keys… args…` (`EVAL` or `EVALSHA`), flattened.
    async fn script(
        &self,
        command: &str,
        first: &str,
        keys: &[String],
        args: &[Vec<u8>],
    ) -> Result<Vec<Value>, BackendError> {
        let mut con = self.con().await?;
        let mut cmd = redis::cmd(command);
        cmd.arg(first).arg(keys.len());
        for key in keys {
            cmd.arg(key);
        }
        for arg in args {
            cmd.arg(arg.as_slice());
        }
        let reply: redis::Value = cmd.query_async(&mut con).await.map_err(|e| {
            if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript) {
                BackendError::NoScript
            } else {
                BackendError::Redis(e.to_string())
            }
        })?;
        let mut out = Vec::new();
        flatten(reply, &mut out)?;
        Ok(out)
    }
}

impl Backend for RedisBackend {
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
        let mut con = self.con().await?;
        let _: String = redis::cmd("PING")
            .query_async(&mut con)
            .await
            .map_err(|e| BackendError::Redis(e.to_string()))?;
        Ok(())
    }

    fn random_bytes(&self, buf: &mut [u8]) -> Result<(), BackendError> {
        getrandom::fill(buf).map_err(|e| BackendError::Random(e.to_string()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn config() -> Config {
    let vars = [
        ("redis_url", redis_url()),
        ("relay_url", "ws://127.0.0.1:3001/ws".to_owned()),
        ("room_lifetime_default_secs", "3600".to_owned()),
        ("room_lifetime_max_secs", "86400".to_owned()),
        ("room_idle_secs", "900".to_owned()),
        ("room_max_members", "32".to_owned()),
        ("rate_create_per_min", "20".to_owned()),
        ("rate_join_per_min", "60".to_owned()),
        // A secret per test: its rate counters are its own, the global
        // budget included.
        ("rate_key_secret", hex(&random::<32>())),
    ];
    Config::from_lookup(|name| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    })
    .expect("test config")
}

/// One test's client: its own /64, a backend and a config.
struct Client {
    addr: String,
    backend: RedisBackend,
    config: Config,
    redis: MultiplexedConnection,
}

/// A response with its body parsed.
struct Reply {
    status: u16,
    body: Vec<u8>,
    json: Json,
    raw: ApiResponse,
}

impl Client {
    async fn new(config: Config) -> Self {
        let [a, b, c, d] = random::<8>()
            .chunks(2)
            .map(|p| u16::from_be_bytes([p[0], p[1]]))
            .collect::<Vec<_>>()[..]
        else {
            unreachable!()
        };
        let redis = redis::Client::open(redis_url())
            .expect("REDIS_URL")
            .get_multiplexed_async_connection()
            .await
            .unwrap_or_else(|e| panic!("Redis at {} is required: {e}", redis_url()));
        Self {
            addr: format!("[2001:db8:{a:x}:{b:x}:{c:x}:{d:x}::1]:40000"),
            backend: RedisBackend::new(config.redis_url.clone()),
            config,
            redis,
        }
    }

    /// Another client with the same config and Redis (set `addr` after).
    fn clone_with_addr(&self) -> Self {
        Self {
            addr: self.addr.clone(),
            backend: RedisBackend::new(self.config.redis_url.clone()),
            config: self.config.clone(),
            redis: self.redis.clone(),
        }
    }

    async fn send(&self, req: ApiRequest) -> Reply {
        let req = req.with_header("spin-client-addr", &self.addr);
        let raw = handle(req, &self.backend, &self.config).await;
        assert_eq!(raw.header("cache-control"), Some("no-store"));
        assert_eq!(raw.header("x-content-type-options"), Some("nosniff"));
        if raw.status == 204 {
            assert!(raw.body.is_empty());
        } else {
            assert_eq!(raw.header("content-type"), Some("application/json"));
        }
        let json = if raw.body.is_empty() {
            Json::Null
        } else {
            serde_json::from_slice(&raw.body).expect("JSON body")
        };
        Reply {
            status: raw.status,
            body: raw.body.clone(),
            json,
            raw,
        }
    }

    async fn post(&self, path: &str, body: &Json) -> Reply {
        self.send(
            ApiRequest::new("POST", path)
                .with_header("content-type", "application/json")
                .with_body(serde_json::to_vec(body).unwrap()),
        )
        .await
    }

    async fn create(&self, room: &RoomId, key: &JoinKey, extra: Json) -> Reply {
        let mut body = json!({"room_id": room.to_base64(), "join_key": key.to_base64()});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        self.post("/api/rooms", &body).await
    }

    async fn join(&self, room: &RoomId, key: &JoinKey, creator: Option<&str>) -> Reply {
        let mut body = json!({"join_key": key.to_base64()});
        if let Some(token) = creator {
            body["creator_token"] = json!(token);
        }
        self.post(&format!("/api/rooms/{room}/join"), &body).await
    }

    async fn end(&self, room: &RoomId, authorization: Option<&str>) -> Reply {
        let mut req = ApiRequest::new("DELETE", format!("/api/rooms/{room}"));
        if let Some(value) = authorization {
            req.add_header("authorization", value);
        }
        self.send(req).await
    }

    /// Every key of the room, by `SCAN MATCH vroom:{R}:*`.
    async fn keys(&self, room: &RoomId) -> Vec<String> {
        let mut con = self.redis.clone();
        let mut cursor: u64 = 0;
        let mut found = Vec::new();
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(room_pattern(room))
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut con)
                .await
                .expect("SCAN");
            found.extend(batch);
            if next == 0 {
                return found;
            }
            cursor = next;
        }
    }

    async fn grant(&self, room: &RoomId, ticket: &str) -> Option<TicketGrant> {
        let ticket = Ticket::parse(ticket).expect("ticket");
        let value: Option<Vec<u8>> = redis::cmd("GET")
            .arg(ticket_key(room, &ticket))
            .query_async(&mut self.redis.clone())
            .await
            .expect("GET");
        value.map(|v| TicketGrant::decode(&v).expect("grant encoding"))
    }

    async fn add_members(&self, room: &RoomId, n: usize) {
        let mut con = self.redis.clone();
        for i in 0..n {
            let _: () = redis::cmd("ZADD")
                .arg(presence_key(room))
                .arg(1_700_000_000_000_i64)
                .arg(format!("member-{i}"))
                .query_async(&mut con)
                .await
                .expect("ZADD");
        }
        let _: () = redis::cmd("EXPIRE")
            .arg(presence_key(room))
            .arg(60)
            .query_async(&mut con)
            .await
            .expect("EXPIRE");
    }
}

fn new_room() -> (RoomId, JoinKey) {
    let key = JoinKey::from_bytes(random());
    (RoomId::for_join_key(&key), key)
}

fn error_code(reply: &Reply) -> &str {
    reply.json["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("error body: {}", reply.json))
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn create_join_end() {
    let client = Client::new(config()).await;
    let (room, key) = new_room();

    let created = client
        .create(&room, &key, json!({"lifetime_secs": 600}))
        .await;
    assert_eq!(created.status, 201, "{}", created.json);
    let body = created.json.as_object().unwrap();
    let mut fields: Vec<_> = body.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["creator_token", "expires_at", "relay", "room_id", "ticket"]
    );
    assert_eq!(body["room_id"], room.to_base64());
    assert_eq!(body["relay"], "ws://127.0.0.1:3001/ws");
    let creator = body["creator_token"].as_str().unwrap().to_owned();
    CreatorToken::parse(&creator).expect("creator token");
    let ticket = body["ticket"].as_str().unwrap();
    assert_eq!(
        client.grant(&room, ticket).await,
        Some(TicketGrant::Creator)
    );
    let expires_at = body["expires_at"].as_u64().unwrap();

    let joined = client.join(&room, &key, None).await;
    assert_eq!(joined.status, 200, "{}", joined.json);
    assert_eq!(joined.json["room_id"], room.to_base64());
    assert_eq!(joined.json["members"], 0);
    assert_eq!(joined.json["expires_at"], expires_at);
    assert_eq!(joined.json["relay"], "ws://127.0.0.1:3001/ws");
    assert_eq!(joined.json.as_object().unwrap().len(), 5);
    let ticket = joined.json["ticket"].as_str().unwrap();
    assert_eq!(client.grant(&room, ticket).await, Some(TicketGrant::Member));

    // The creator rejoining (a reload) gets a creator ticket.
    let rejoined = client.join(&room, &key, Some(&creator)).await;
    assert_eq!(rejoined.status, 200);
    let ticket = rejoined.json["ticket"].as_str().unwrap();
    assert_eq!(
        client.grant(&room, ticket).await,
        Some(TicketGrant::Creator)
    );

    let ended = client.end(&room, Some(&bearer(&creator))).await;
    assert_eq!(ended.status, 204);
    assert!(client.keys(&room).await.is_empty());

    let again = client.end(&room, Some(&bearer(&creator))).await;
    assert_eq!((again.status, error_code(&again)), (404, "not_found"));
    let join = client.join(&room, &key, None).await;
    assert_eq!(join.status, 404);
}

#[tokio::test]
async fn wrong_key_and_unknown_room_are_indistinguishable() {
    let client = Client::new(config()).await;
    let (room, key) = new_room();
    let (unknown, _) = new_room();
    let created = client.create(&room, &key, json!({})).await;
    assert_eq!(created.status, 201);

    let wrong_key = client
        .join(&room, &JoinKey::from_bytes(random()), None)
        .await;
    let no_room = client.join(&unknown, &key, None).await;
    let wrong_creator = client
        .join(
            &room,
            &key,
            Some(&CreatorToken::from_bytes(random()).to_base64()),
        )
        .await;
    for reply in [&wrong_key, &no_room, &wrong_creator] {
        assert_eq!(reply.status, 404);
        assert_eq!(reply.body, no_room.body);
        assert_eq!(reply.raw.headers, no_room.raw.headers);
    }
    assert_eq!(error_code(&no_room), "not_found");
    assert!(client.keys(&unknown).await.is_empty());

    let creator = created.json["creator_token"].as_str().unwrap();
    assert_eq!(client.end(&room, Some(&bearer(creator))).await.status, 204);
    assert!(client.keys(&room).await.is_empty());
}

#[tokio::test]
async fn ending_needs_the_creator_token() {
    let client = Client::new(config()).await;
    let (room, key) = new_room();
    let created = client.create(&room, &key, json!({})).await;
    let creator = created.json["creator_token"].as_str().unwrap().to_owned();
    let (unknown, _) = new_room();
    let reference = client.end(&unknown, Some(&bearer(&creator))).await;
    assert_eq!(reference.status, 404);

    let wrong = bearer(&CreatorToken::from_bytes(random()).to_base64());
    let join_key_as_token = bearer(&key.to_base64());
    for auth in [
        None,
        Some(wrong.as_str()),
        Some(join_key_as_token.as_str()),
        Some("Bearer not-a-token"),
        Some("Basic Zm9vOmJhcg=="),
        Some(creator.as_str()),
        Some(""),
    ] {
        let reply = client.end(&room, auth).await;
        assert_eq!(reply.status, 404, "{auth:?}");
        assert_eq!(reply.body, reference.body, "{auth:?}");
    }
    assert_eq!(client.keys(&room).await.len(), 3, "room untouched");

    assert_eq!(client.end(&room, Some(&bearer(&creator))).await.status, 204);
    assert!(client.keys(&room).await.is_empty());
}

#[tokio::test]
async fn create_or_join_and_plain_create_of_a_live_room() {
    let client = Client::new(config()).await;
    let (room, key) = new_room();
    let first = client
        .create(&room, &key, json!({"mode": "create_or_join"}))
        .await;
    assert_eq!(first.status, 201);
    let creator = first.json["creator_token"].as_str().unwrap().to_owned();

    let second = client
        .create(
            &room,
            &key,
            json!({"mode": "create_or_join", "lifetime_secs": 120}),
        )
        .await;
    assert_eq!(second.status, 200, "{}", second.json);
    let mut fields: Vec<_> = second.json.as_object().unwrap().keys().cloned().collect();
    fields.sort_unstable();
    assert_eq!(fields, ["expires_at", "relay", "room_id", "ticket"]);
    assert_eq!(second.json["expires_at"], first.json["expires_at"]);
    let ticket = second.json["ticket"].as_str().unwrap();
    assert_eq!(client.grant(&room, ticket).await, Some(TicketGrant::Member));

    let other_key = client
        .create(
            &room,
            &JoinKey::from_bytes(random()),
            json!({"mode": "create_or_join"}),
        )
        .await;
    // Another key does not belong to this id (protocol v2): the answer for
    // an unknown room, so nobody without the key learns the room is live.
    assert_eq!(
        (other_key.status, error_code(&other_key)),
        (404, "not_found")
    );
    for mode in [json!({}), json!({"mode": "create"})] {
        let plain = client.create(&room, &key, mode).await;
        assert_eq!((plain.status, error_code(&plain)), (409, "room_exists"));
    }

    assert_eq!(client.end(&room, Some(&bearer(&creator))).await.status, 204);
    assert!(client.keys(&room).await.is_empty());
    // Ended rooms can be created again with the same credentials.
    let again = client.create(&room, &key, json!({})).await;
    assert_eq!(again.status, 201);
    let creator = again.json["creator_token"].as_str().unwrap();
    assert_eq!(client.end(&room, Some(&bearer(creator))).await.status, 204);
    assert!(client.keys(&room).await.is_empty());
}

#[tokio::test]
async fn a_full_room_refuses_joins() {
    let mut config = config();
    config.room_max_members = 2;
    let client = Client::new(config).await;
    let (room, key) = new_room();
    let created = client.create(&room, &key, json!({})).await;
    let creator = created.json["creator_token"].as_str().unwrap().to_owned();
    client.add_members(&room, 1).await;
    // The creator counts toward the cap, and its seat is kept while no
    // creator connection is present.
    let kept = client.join(&room, &key, None).await;
    assert_eq!((kept.status, error_code(&kept)), (409, "room_full"));
    let joined = client.join(&room, &key, Some(&creator)).await;
    assert_eq!((joined.status, &joined.json["members"]), (200, &json!(1)));

    client.add_members(&room, 2).await;
    for token in [None, Some(creator.as_str())] {
        let full = client.join(&room, &key, token).await;
        assert_eq!((full.status, error_code(&full)), (409, "room_full"));
    }
    let full = client
        .create(&room, &key, json!({"mode": "create_or_join"}))
        .await;
    assert_eq!((full.status, error_code(&full)), (409, "room_full"));
    // Wrong key on a full room is still just "not found".
    let wrong = client
        .join(&room, &JoinKey::from_bytes(random()), None)
        .await;
    assert_eq!(wrong.status, 404);

    assert_eq!(client.end(&room, Some(&bearer(&creator))).await.status, 204);
    assert!(client.keys(&room).await.is_empty());
}

#[tokio::test]
async fn joins_and_creates_are_rate_limited_per_client_64() {
    let mut config = config();
    config.rate_join.address = 2;
    config.rate_create.address = 1;
    let client = Client::new(config).await;
    let (room, key) = new_room();
    let created = client.create(&room, &key, json!({})).await;
    assert_eq!(created.status, 201);
    let creator = created.json["creator_token"].as_str().unwrap().to_owned();

    let (other_room, other_key) = new_room();
    let limited = client.create(&other_room, &other_key, json!({})).await;
    assert_eq!(
        (limited.status, error_code(&limited)),
        (429, "rate_limited")
    );
    let retry: u64 = limited.raw.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(client.keys(&other_room).await.is_empty());

    assert_eq!(client.join(&room, &key, None).await.status, 200);
    assert_eq!(client.join(&room, &key, None).await.status, 200);
    let limited = client.join(&room, &key, None).await;
    assert_eq!(limited.status, 429);
    assert!(limited.raw.header("retry-after").is_some());

    // Another host in the same /64 shares the bucket; another /64 does not.
    let same_64 = Client {
        addr: client.addr.replace("::1]", "::2]"),
        ..Client::new(client.config.clone()).await
    };
    assert_eq!(same_64.join(&room, &key, None).await.status, 429);
    let other_64 = Client::new(client.config.clone()).await;
    assert_eq!(other_64.join(&room, &key, None).await.status, 200);

    // Ending is not rate-limited.
    assert_eq!(client.end(&room, Some(&bearer(&creator))).await.status, 204);
    assert!(client.keys(&room).await.is_empty());
}

#[tokio::test]
async fn ipv6_prefixes_have_their_own_limits() {
    let mut config = config();
    config.rate_join = RateLimits {
        address: 2,
        v6_56: 3,
        v6_48: 5,
        unknown: 1,
    };
    let client = Client::new(config).await;
    let (room, key) = new_room();
    let created = client.create(&room, &key, json!({})).await;
    assert_eq!(created.status, 201);
    let creator = created.json["creator_token"].as_str().unwrap().to_owned();
    // client.addr is [2001:db8:a:b:c:d::1]: /48 2001:db8:a, /56 2001:db8:a:b00.
    let groups: Vec<u16> = client.addr[1..client.addr.find("::").unwrap()]
        .split(':')
        .map(|g| u16::from_str_radix(g, 16).unwrap())
        .collect();
    let at = |group3: u16, group4: u16| Client {
        addr: format!("[2001:db8:{:x}:{group3:x}:{group4:x}::1]:1", groups[2]),
        ..client.clone_with_addr()
    };
    let in_56 = |n: u16| at(groups[3] & 0xff00 | (groups[3].wrapping_add(n) & 0xff), 0);
    let other_56 = |n: u16| at(groups[3] ^ 0x8000 ^ (n << 8), 0);
    let mut statuses = Vec::new();
    for n in 0..4 {
        statuses.push(in_56(n).join(&room, &key, None).await.status);
    }
    assert_eq!(statuses, [200, 200, 200, 429], "a /56 may join 3 times");
    let mut statuses = Vec::new();
    for n in 0..3 {
        statuses.push(other_56(n).join(&room, &key, None).await.status);
    }
    assert_eq!(statuses, [200, 200, 429], "the /48 may join 5 times");
    // Refused joins counted nowhere: the /48 is spent, not past it.
    let other_48 = Client::new(client.config.clone()).await;
    assert_eq!(other_48.join(&room, &key, None).await.status, 200);
    assert_eq!(client.end(&room, Some(&bearer(&creator))).await.status, 204);
}

#[tokio::test]
async fn the_global_create_budget_holds_across_addresses() {
    let mut tight = config();
    tight.rate_create_global_per_min = 3;
    let first = Client::new(tight).await;
    let mut created = Vec::new();
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let client = Client::new(first.config.clone()).await;
        let (room, key) = new_room();
        let reply = client.create(&room, &key, json!({})).await;
        statuses.push(reply.status);
        if reply.status == 201 {
            let token = reply.json["creator_token"].as_str().unwrap().to_owned();
            created.push((client, room, token));
        } else {
            assert!(reply.raw.header("retry-after").is_some());
            assert!(client.keys(&room).await.is_empty());
        }
    }
    assert_eq!(statuses, [201, 201, 201, 429, 429]);
    // Another deployment (another secret) has its own budget.
    let other = Client::new(config()).await;
    let (room, key) = new_room();
    let reply = other.create(&room, &key, json!({})).await;
    assert_eq!(reply.status, 201);
    let token = reply.json["creator_token"].as_str().unwrap().to_owned();
    created.push((other, room, token));
    for (client, room, token) in created {
        assert_eq!(client.end(&room, Some(&bearer(&token))).await.status, 204);
    }
}

#[tokio::test]
async fn rate_keys_are_keyed_hashes() {
    let client = Client::new(config()).await;
    let (room, key) = new_room();
    let created = client.create(&room, &key, json!({})).await;
    assert_eq!(created.status, 201);
    let mut con = client.redis.clone();
    let ip = client.addr.parse::<std::net::SocketAddr>().unwrap().ip();
    let bucket = vroom_shared::client_addr::Bucket::of(Some(ip))[0].name();
    assert!(bucket.starts_with("v6/64:2001:db8:"), "{bucket}");
    let mine = vroom_shared::redis::rate_key(
        vroom_shared::redis::RateAction::Create,
        &client.config.rate_key_secret,
        &bucket,
    );
    let plain = hex(&vroom_shared::ids::sha256(bucket.as_bytes()));
    for (key, expected) in [
        (mine, 1),
        (format!("vroom:{{rate}}:create:{plain}"), 0),
        (format!("vroom:rate:create:{plain}"), 0),
    ] {
        let exists: i64 = redis::cmd("EXISTS")
            .arg(&key)
            .query_async(&mut con)
            .await
            .unwrap();
        assert_eq!(exists, expected, "{key}");
    }
    let creator = created.json["creator_token"].as_str().unwrap();
    assert_eq!(client.end(&room, Some(&bearer(creator))).await.status, 204);
}

#[tokio::test]
async fn bad_requests_get_json_4xx_and_touch_nothing() {
    let client = Client::new(config()).await;
    let (room, key) = new_room();
    let room_text = room.to_base64();
    let key_text = key.to_base64();
    let good = json!({"room_id": room_text, "join_key": key_text}).to_string();
    let json_post = |path: &str, body: &str| {
        ApiRequest::new("POST", path)
            .with_header("content-type", "application/json")
            .with_body(body.as_bytes().to_vec())
    };
    let join_path = format!("/api/rooms/{room_text}/join");
    let cases: Vec<(ApiRequest, u16, &str)> = vec![
        (json_post("/api/rooms", "{"), 400, "bad_request"),
        (json_post("/api/rooms", ""), 400, "bad_request"),
        (json_post("/api/rooms", "[]"), 400, "bad_request"),
        (json_post("/api/rooms", "null"), 400, "bad_request"),
        (
            json_post("/api/rooms", &good.replace('}', r#","admin":true}"#)),
            400,
            "bad_request",
        ),
        (
            json_post("/api/rooms", &format!(r#"{{"room_id":"{room_text}"}}"#)),
            400,
            "bad_request",
        ),
        (
            json_post("/api/rooms", &good.replace(&room_text, "short")),
            400,
            "bad_request",
        ),
        (
            json_post("/api/rooms", &good.replace('}', r#","lifetime_secs":59}"#)),
            400,
            "bad_request",
        ),
        (
            json_post(
                "/api/rooms",
                &good.replace('}', r#","lifetime_secs":86401}"#),
            ),
            400,
            "bad_request",
        ),
        (
            json_post(
                "/api/rooms",
                &good.replace('}', r#","lifetime_secs":1e400}"#),
            ),
            400,
            "bad_request",
        ),
        (
            json_post("/api/rooms", &good.replace('}', r#","mode":"join"}"#)),
            400,
            "bad_request",
        ),
        (
            json_post("/api/rooms", &good).with_body(vec![0xff, 0xfe, b'{']),
            400,
            "bad_request",
        ),
        (
            ApiRequest::new("POST", "/api/rooms")
                .with_header("content-type", "text/plain")
                .with_body(good.clone()),
            415,
            "unsupported_media_type",
        ),
        (
            ApiRequest::new("POST", "/api/rooms").with_body(good.clone()),
            415,
            "unsupported_media_type",
        ),
        (
            json_post(
                "/api/rooms",
                &format!("{}{}", good, " ".repeat(MAX_BODY_BYTES)),
            ),
            413,
            "payload_too_large",
        ),
        (
            json_post("/api/rooms", &good).with_header("content-length", "1000000"),
            413,
            "payload_too_large",
        ),
        (
            json_post("/api/rooms", &good).with_header("content-length", "ten"),
            400,
            "bad_request",
        ),
        (
            json_post("/api/rooms/not-an-id/join", &good),
            400,
            "bad_request",
        ),
        (
            json_post(&join_path, &json!({"join_key": "x"}).to_string()),
            400,
            "bad_request",
        ),
        (
            json_post(
                &join_path,
                &json!({"join_key": key_text, "room_id": room_text}).to_string(),
            ),
            400,
            "bad_request",
        ),
        (
            json_post(
                &join_path,
                &json!({"join_key": key_text, "creator_token": 5}).to_string(),
            ),
            400,
            "bad_request",
        ),
        (
            ApiRequest::new("DELETE", "/api/rooms/%2e%2e"),
            400,
            "bad_request",
        ),
        (
            ApiRequest::new("GET", "/api/rooms"),
            405,
            "method_not_allowed",
        ),
        (
            ApiRequest::new("PUT", format!("/api/rooms/{room_text}")),
            405,
            "method_not_allowed",
        ),
        (
            ApiRequest::new("get", "/api/health"),
            405,
            "method_not_allowed",
        ),
        (ApiRequest::new("GET", "/api/nope"), 404, "not_found"),
        (ApiRequest::new("GET", "/api/rooms/"), 404, "not_found"),
        (
            ApiRequest::new("POST", "/api/rooms/a/b/c"),
            404,
            "not_found",
        ),
    ];
    for (req, status, code) in cases {
        let what = format!("{} {}", req.method, req.path);
        // The host's config-free pre-check answers exactly the routing errors.
        let early = vroom_rooms_api::route_error(&req);
        assert_eq!(early.is_some(), matches!(status, 404 | 405), "{what}");
        let reply = client.send(req).await;
        if let Some(early) = early {
            assert_eq!((early.status, &early.body), (reply.status, &reply.body));
        }
        assert_eq!((reply.status, error_code(&reply)), (status, code), "{what}");
        assert!(reply.json["error"]["message"].is_string());
        assert!(reply.raw.log.is_none(), "{what}");
        let body = String::from_utf8(reply.body).unwrap();
        assert!(!body.contains(&key_text), "{what} echoed the join key");
        if status == 405 {
            assert!(reply.raw.header("allow").is_some());
        }
    }
    assert!(client.keys(&room).await.is_empty());
}

#[tokio::test]
async fn errors_never_echo_secrets() {
    let client = Client::new(config()).await;
    let (room, key) = new_room();
    let secret = key.to_base64();
    // A join key where a number belongs.
    let reply = client
        .post(
            "/api/rooms",
            &json!({"room_id": room.to_base64(), "join_key": secret, "lifetime_secs": secret}),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert!(!String::from_utf8(reply.body).unwrap().contains(&secret));
    // A join key with a typo in a field name.
    let mut body = json!({"join_key": secret});
    body[secret.as_str()] = json!(secret);
    let reply = client.post(&format!("/api/rooms/{room}/join"), &body).await;
    assert_eq!(reply.status, 400);
    assert!(!String::from_utf8(reply.body).unwrap().contains(&secret));
}

#[tokio::test]
async fn health_reports_redis() {
    let client = Client::new(config()).await;
    let ok = client.send(ApiRequest::new("GET", "/api/health")).await;
    assert_eq!((ok.status, ok.json.clone()), (200, json!({"ok": true})));

    let mut down = config();
    down.redis_url = "redis://127.0.0.1:1".into();
    let client = Client::new(down).await;
    let reply = client.send(ApiRequest::new("GET", "/api/health")).await;
    assert_eq!((reply.status, error_code(&reply)), (503, "unavailable"));
    assert!(reply.raw.log.is_some());
    let (room, key) = new_room();
    let reply = client.create(&room, &key, json!({})).await;
    assert_eq!((reply.status, error_code(&reply)), (503, "unavailable"));
    let body = String::from_utf8(reply.body).unwrap();
    assert!(!body.contains("127.0.0.1"), "no internals: {body}");
    // Requests refused before storage do not need it.
    let reply = client.send(ApiRequest::new("GET", "/api/rooms")).await;
    assert_eq!(reply.status, 405);
}

#[tokio::test]
async fn an_idle_room_expires_without_a_trace() {
    let mut config = config();
    config.room_idle_secs = 1;
    let client = Client::new(config).await;
    let (room, key) = new_room();
    let created = client
        .create(&room, &key, json!({"lifetime_secs": 60}))
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(client.join(&room, &key, None).await.status, 200);
    assert_eq!(client.keys(&room).await.len(), 4);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(client.keys(&room).await.is_empty());
    assert_eq!(client.join(&room, &key, None).await.status, 404);
    let creator = created.json["creator_token"].as_str().unwrap();
    assert_eq!(client.end(&room, Some(&bearer(creator))).await.status, 404);
    assert!(client.keys(&room).await.is_empty());
}

#[tokio::test]
async fn arbitrary_input_never_gets_a_5xx() {
    let mut config = config();
    let unlimited = RateLimits {
        address: 100_000,
        v6_56: 100_000,
        v6_48: 100_000,
        unknown: 100_000,
    };
    config.rate_create = unlimited;
    config.rate_join = unlimited;
    let client = Client::new(config).await;
    let (room, key) = new_room();
    let valid = json!({"room_id": room.to_base64(), "join_key": key.to_base64()}).to_string();
    let methods = ["GET", "POST", "DELETE", "PUT", "post", "", "\u{0}"];
    let paths = [
        "/api/rooms".to_owned(),
        format!("/api/rooms/{room}/join"),
        format!("/api/rooms/{room}"),
        "/api/health".to_owned(),
        "/api/rooms/ü/join".to_owned(),
        "/api/rooms/\u{0}".to_owned(),
        "//api/rooms".to_owned(),
        "/api/rooms?x=1".to_owned(),
    ];
    let content_types = [
        None,
        Some("application/json"),
        Some("application/json; charset=utf-8; x=y"),
        Some(";;;="),
        Some("\u{fffd}"),
    ];
    for round in 0..600 {
        let pick = random::<8>();
        let mut body = match pick[0] % 4 {
            0 => valid.clone().into_bytes(),
            1 => {
                // Valid JSON, mutated in one byte.
                let mut b = valid.clone().into_bytes();
                let at = usize::from(pick[1]) % b.len();
                b[at] = pick[2];
                b
            }
            2 => random::<64>()[..usize::from(pick[1] % 64)].to_vec(),
            _ => Vec::new(),
        };
        if pick[3].is_multiple_of(16) {
            body = vec![b'['; MAX_BODY_BYTES + 1];
        }
        let mut req = ApiRequest::new(
            methods[usize::from(pick[4]) % methods.len()],
            paths[usize::from(pick[5]) % paths.len()].as_str(),
        )
        .with_body(body);
        if let Some(ct) = content_types[usize::from(pick[6]) % content_types.len()] {
            req.add_header("content-type", ct);
        }
        match pick[7] % 4 {
            0 => req.add_header("content-length", &String::from_utf8_lossy(&random::<3>())),
            1 => req.add_header("authorization", &format!("Bearer {}", key.to_base64())),
            _ => {}
        }
        let what = format!("round {round}: {} {:?}", req.method, req.path);
        let reply = client.send(req).await;
        assert!(
            reply.status < 500,
            "{what} → {} {}",
            reply.status,
            reply.json
        );
    }
    // Whatever got created, end it.
    let _: () = redis::cmd("EVAL")
        .arg(vroom_shared::redis::scripts::END_ROOM)
        .arg(3)
        .arg(vroom_shared::redis::room_key(&room))
        .arg(presence_key(&room))
        .arg(vroom_shared::redis::tickets_key(&room))
        .arg("")
        .arg("PUBLISH")
        .arg(vroom_shared::redis::channel(&room))
        .query_async(&mut client.redis.clone())
        .await
        .expect("END_ROOM");
    assert!(client.keys(&room).await.is_empty());
}

#[tokio::test]
async fn a_short_default_lifetime_ends_the_room_without_a_trace() {
    let mut config = config();
    config.room_lifetime_default_secs = 1;
    let client = Client::new(config).await;
    let (room, key) = new_room();
    let created = client.create(&room, &key, json!({})).await;
    assert_eq!(created.status, 201);
    // Clients themselves cannot ask for less than a minute.
    let (other, other_key) = new_room();
    let short = client
        .create(&other, &other_key, json!({"lifetime_secs": 1}))
        .await;
    assert_eq!(short.status, 400);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(client.keys(&room).await.is_empty());
    assert_eq!(client.join(&room, &key, None).await.status, 404);
}

impl Client {
    /// `POST /api/rooms/{room}/{action}` with a JSON body and an optional
    /// `Authorization` header (the creator's lock and remove calls).
    async fn control(
        &self,
        room: &RoomId,
        action: &str,
        body: &Json,
        authorization: Option<&str>,
    ) -> Reply {
        let mut req = ApiRequest::new("POST", format!("/api/rooms/{room}/{action}"))
            .with_header("content-type", "application/json")
            .with_body(serde_json::to_vec(body).unwrap());
        if let Some(value) = authorization {
            req.add_header("authorization", value);
        }
        self.send(req).await
    }

    /// A field of the room hash.
    async fn room_field(&self, room: &RoomId, field: &str) -> Option<String> {
        redis::cmd("HGET")
            .arg(vroom_shared::redis::room_key(room))
            .arg(field)
            .query_async(&mut self.redis.clone())
            .await
            .expect("HGET")
    }
}

#[tokio::test]
async fn the_creator_locks_and_unlocks_and_nobody_else_can() {
    let client = Client::new(config()).await;
    let (room, key) = new_room();
    let created = client.create(&room, &key, json!({})).await;
    let creator = created.json["creator_token"].as_str().unwrap().to_owned();
    let auth = bearer(&creator);
    // Without the creator token: the answer for an unknown room.
    let (unknown, _) = new_room();
    let reference = client
        .control(&unknown, "lock", &json!({"locked": true}), Some(&auth))
        .await;
    assert_eq!(reference.status, 404);
    let wrong = bearer(&CreatorToken::from_bytes(random()).to_base64());
    for bad in [None, Some(wrong.as_str()), Some("Bearer x")] {
        let reply = client
            .control(&room, "lock", &json!({"locked": true}), bad)
            .await;
        assert_eq!(
            (reply.status, &reply.body),
            (404, &reference.body),
            "{bad:?}"
        );
    }
    assert_eq!(client.room_field(&room, "locked").await, None);
    // Malformed bodies: 400, nothing changes.
    for body in [
        json!({}),
        json!({"locked": 1}),
        json!({"locked": true, "x": 1}),
    ] {
        let reply = client.control(&room, "lock", &body, Some(&auth)).await;
        assert_eq!((reply.status, error_code(&reply)), (400, "bad_request"));
    }

    let locked = client
        .control(&room, "lock", &json!({"locked": true}), Some(&auth))
        .await;
    assert_eq!(
        (locked.status, &locked.json),
        (200, &json!({"locked": true}))
    );
    // No ticket for a new member, by join or by create_or_join …
    let refused = client.join(&room, &key, None).await;
    assert_eq!((refused.status, error_code(&refused)), (403, "room_locked"));
    let refused = client
        .create(&room, &key, json!({"mode": "create_or_join"}))
        .await;
    assert_eq!((refused.status, error_code(&refused)), (403, "room_locked"));
    // … but a wrong key still learns nothing, and the creator gets back in.
    let wrong_key = client
        .join(&room, &JoinKey::from_bytes(random()), None)
        .await;
    assert_eq!(wrong_key.status, 404);
    let back = client.join(&room, &key, Some(&creator)).await;
    assert_eq!(back.status, 200);
    let ticket = back.json["ticket"].as_str().unwrap();
    assert_eq!(
        client.grant(&room, ticket).await,
        Some(TicketGrant::Creator)
    );

    let open = client
        .control(&room, "lock", &json!({"locked": false}), Some(&auth))
        .await;
    assert_eq!((open.status, &open.json), (200, &json!({"locked": false})));
    assert_eq!(client.join(&room, &key, None).await.status, 200);
    // Locking twice, unlocking twice: one flag, nothing grows.
    for locked in [true, true, false, false] {
        let reply = client
            .control(&room, "lock", &json!({ "locked": locked }), Some(&auth))
            .await;
        assert_eq!(reply.json, json!({ "locked": locked }));
    }
    assert_eq!(client.end(&room, Some(&auth)).await.status, 204);
    assert!(client.keys(&room).await.is_empty());
    // An ended room: as unknown.
    let gone = client
        .control(&room, "lock", &json!({"locked": true}), Some(&auth))
        .await;
    assert_eq!((gone.status, &gone.body), (404, &reference.body));
}

#[tokio::test]
async fn removing_a_member_locks_and_marks_only_present_members() {
    let client = Client::new(config()).await;
    let (room, key) = new_room();
    let created = client.create(&room, &key, json!({})).await;
    let creator = created.json["creator_token"].as_str().unwrap().to_owned();
    let auth = bearer(&creator);
    // Members 1 (the creator's connection) and 2, 3, as a relay would add them.
    let mut con = client.redis.clone();
    for member in [1, 2, 3] {
        let _: () = redis::cmd("ZADD")
            .arg(presence_key(&room))
            .arg(1_700_000_000_000_i64)
            .arg(member)
            .query_async(&mut con)
            .await
            .expect("ZADD");
    }
    let _: () = redis::cmd("HSET")
        .arg(vroom_shared::redis::room_key(&room))
        .arg("creator_member")
        .arg(1)
        .query_async(&mut con)
        .await
        .expect("HSET");

    let wrong = bearer(&CreatorToken::from_bytes(random()).to_base64());
    let reply = client
        .control(&room, "remove", &json!({"member": 2}), Some(&wrong))
        .await;
    assert_eq!((reply.status, error_code(&reply)), (404, "not_found"));
    let reply = client
        .control(&room, "remove", &json!({"member": 9}), Some(&auth))
        .await;
    assert_eq!((reply.status, error_code(&reply)), (404, "no_such_member"));
    let reply = client
        .control(&room, "remove", &json!({"member": 1}), Some(&auth))
        .await;
    assert_eq!((reply.status, error_code(&reply)), (400, "bad_request"));
    for body in [json!({"member": -1}), json!({"member": "2"}), json!({})] {
        let reply = client.control(&room, "remove", &body, Some(&auth)).await;
        assert_eq!((reply.status, error_code(&reply)), (400, "bad_request"));
    }
    assert_eq!(
        client.room_field(&room, "locked").await,
        None,
        "nothing changed"
    );

    for _ in 0..3 {
        let reply = client
            .control(&room, "remove", &json!({"member": 2}), Some(&auth))
            .await;
        assert_eq!((reply.status, &reply.json), (200, &json!({"locked": true})));
    }
    assert_eq!(
        client.room_field(&room, "locked").await.as_deref(),
        Some("1")
    );
    assert_eq!(
        client.room_field(&room, "expel:2").await.as_deref(),
        Some("1")
    );
    assert_eq!(client.room_field(&room, "expel:3").await, None);
    // The link gets nobody in now.
    let refused = client.join(&room, &key, None).await;
    assert_eq!((refused.status, error_code(&refused)), (403, "room_locked"));
    // Marks stay within the members present: one field per present member at most.
    let fields: Vec<String> = redis::cmd("HKEYS")
        .arg(vroom_shared::redis::room_key(&room))
        .query_async(&mut con)
        .await
        .expect("HKEYS");
    assert_eq!(fields.iter().filter(|f| f.starts_with("expel:")).count(), 1);
    assert_eq!(
        client.room_field(&room, "expels").await.as_deref(),
        Some("1")
    );
    assert_eq!(client.end(&room, Some(&auth)).await.status, 204);
    assert!(client.keys(&room).await.is_empty());
}

/// Redis names every script by the SHA-1 the API sends in `EVALSHA`.
#[tokio::test]
async fn redis_names_each_script_by_its_constant() {
    let backend = RedisBackend::new(redis_url());
    let mut con = backend.con().await.unwrap();
    for script in vroom_rooms_api::script::ALL {
        let sha1: String = redis::cmd("SCRIPT")
            .arg("LOAD")
            .arg(script.text)
            .query_async(&mut con)
            .await
            .unwrap();
        assert_eq!(sha1, script.sha1);
    }
}

/// A script Redis does not hold yet is sent once by `EVAL`, then run by
/// `EVALSHA` alone. A nonce makes the script new to this Redis; its SHA-1
/// comes from Redis itself (`redis.sha1hex`, which caches nothing of it).
#[tokio::test]
async fn an_unknown_script_falls_back_to_eval_once() {
    let backend = RedisBackend::new(redis_url());
    let nonce = hex(&random::<16>());
    let text: &'static str = format!("return {{7, ARGV[1], '{nonce}'}}").leak();
    let sha1: String = redis::cmd("EVAL")
        .arg("return redis.sha1hex(ARGV[1])")
        .arg(0)
        .arg(text)
        .query_async(&mut backend.con().await.unwrap())
        .await
        .unwrap();
    let sha1: &'static str = sha1.leak();
    let script = vroom_rooms_api::script::Script { text, sha1 };
    let exists = |con: redis::aio::MultiplexedConnection| async move {
        let mut con = con;
        let found: Vec<bool> = redis::cmd("SCRIPT")
            .arg("EXISTS")
            .arg(sha1)
            .query_async(&mut con)
            .await
            .unwrap();
        found[0]
    };
    assert!(!exists(backend.con().await.unwrap()).await);
    assert_eq!(
        backend.evalsha(sha1, &[], &[b"x".to_vec()]).await,
        Err(BackendError::NoScript)
    );
    let expected = vec![
        Value::Int(7),
        Value::Bytes(b"x".to_vec()),
        Value::Bytes(nonce.clone().into_bytes()),
    ];
    let reply = vroom_rooms_api::script::run(&backend, &script, &[], &[b"x".to_vec()]).await;
    assert_eq!(reply.as_ref(), Ok(&expected));
    assert!(exists(backend.con().await.unwrap()).await);
    // Now EVALSHA alone answers.
    assert_eq!(
        backend.evalsha(sha1, &[], &[b"x".to_vec()]).await,
        Ok(expected)
    );
}

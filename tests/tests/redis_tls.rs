//! Redis over TLS with an ACL user, end to end. A private `redis-server`
//! serves only TLS (plain port off) with a throwaway CA and server
//! certificate made here with rcgen; its `default` user is off and one ACL
//! user with a password may do anything. The rooms API (real host, real
//! component) reaches it through `rediss://` with `redis_username` and
//! `redis_password`, trusting the CA through `SSL_CERT_FILE` as real Spin
//! would; two relay nodes reach it with `--redis-ca-file`. A room is relayed
//! across the two nodes and ended through the API. With a CA that did not
//! sign the server's certificate the relay refuses to start and the API
//! answers `503 unavailable`, each logging the certificate problem.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use futures_util::SinkExt;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use vroom_shared::relay::ClientFrame;
use vroom_system_tests::relay_client::{Seen, connect, next};
use vroom_system_tests::{
    Host, RelayNode, TempDir, client, free_port, new_room, random_b64, repo_root,
};

/// The ACL user the tests connect as.
const USER: &str = "vroom-tls-test";

/// A CA: its certificate (PEM) and the issuer that signs with its key.
struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    fn new(name: &str) -> Self {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let pem = params.self_signed(&key).expect("CA certificate").pem();
        Self {
            pem,
            issuer: Issuer::new(params, key),
        }
    }
}

/// A private TLS-only `redis-server` with one ACL user, stopped on drop.
struct TlsRedis {
    child: std::process::Child,
    dir: TempDir,
    port: u16,
    password: String,
}

impl TlsRedis {
    /// Starts it with a server certificate for 127.0.0.1 signed by `ca`.
    async fn start(ca: &Ca) -> Self {
        let dir = TempDir::new("vroom-redis-tls");
        let server_key = KeyPair::generate().expect("server key");
        let server = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".into()])
            .expect("server params")
            .signed_by(&server_key, &ca.issuer)
            .expect("server certificate");
        let path = |name: &str| dir.path().join(name);
        std::fs::write(path("server.pem"), server.pem()).unwrap();
        std::fs::write(path("server.key"), server_key.serialize_pem()).unwrap();
        std::fs::write(path("ca.pem"), &ca.pem).unwrap();
        let port = free_port();
        let password = random_b64(24);
        let config = format!(
            "port 0\nbind 127.0.0.1\ntls-port {port}\n\
             tls-cert-file {cert}\ntls-key-file {key}\ntls-ca-cert-file {ca}\n\
             tls-auth-clients no\nsave \"\"\nappendonly no\ndir {dir}\n\
             user default off\nuser {USER} on >{password} ~* &* +@all\n",
            cert = path("server.pem").display(),
            key = path("server.key").display(),
            ca = path("ca.pem").display(),
            dir = dir.path().display(),
        );
        std::fs::write(path("redis.conf"), config).unwrap();
        let child = std::process::Command::new("redis-server")
            .arg(path("redis.conf"))
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (built with TLS, as Debian's is)");
        let redis = Self {
            child,
            dir,
            port,
            password,
        };
        for _ in 0..100 {
            if redis.connection(&ca.pem).await.is_ok() {
                return redis;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the TLS redis-server did not answer within 10 s");
    }

    /// `rediss://127.0.0.1:PORT`: what `allowed_outbound_hosts` names.
    fn address(&self) -> String {
        format!("rediss://127.0.0.1:{}", self.port)
    }

    /// The address with the ACL user and `password`.
    fn url_with(&self, password: &str) -> String {
        format!("rediss://{USER}:{password}@127.0.0.1:{}", self.port)
    }

    fn url(&self) -> String {
        self.url_with(&self.password)
    }

    /// A file in the server's directory holding `pem`.
    fn file(&self, name: &str, pem: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, pem).unwrap();
        path
    }

    /// A connection as the ACL user, trusting `ca_pem`.
    async fn connection(
        &self,
        ca_pem: &str,
    ) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
        let client = redis::Client::build_with_tls(
            self.url(),
            redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(ca_pem.as_bytes().to_vec()),
            },
        )?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<()>(&mut conn).await?;
        Ok(conn)
    }
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The host on the repository's `spin.toml` against `redis`, trusting the
/// CA in `ca_file` (`SSL_CERT_FILE`, as for real Spin).
async fn host(redis: &TlsRedis, ca_file: &Path, relay_url: &str) -> Host {
    Host::start_with_env(
        &repo_root().join("spin.toml"),
        &[
            ("redis_url", &redis.address()),
            ("redis_username", USER),
            ("redis_password", &redis.password),
            ("relay_url", relay_url),
        ],
        &[],
        &[("SSL_CERT_FILE", ca_file.as_os_str())],
    )
    .await
}

#[tokio::test]
async fn a_room_runs_across_two_relay_nodes_and_the_api_over_tls_with_an_acl_user() {
    let ca = Ca::new("Vroom test CA");
    let redis = TlsRedis::start(&ca).await;
    let ca_file = redis.file("trusted-ca.pem", &ca.pem);
    let ca_arg = ca_file.to_str().unwrap();
    let node_a = RelayNode::start_on(&redis.url(), "tls-a", &["--redis-ca-file", ca_arg]).await;
    let node_b = RelayNode::start_on(
        &redis.url(),
        "tls-b",
        &["--redis-ca-file", ca_arg, "--threads", "1"],
    )
    .await;
    let host = host(&redis, &ca_file, &node_a.url).await;
    let http = client();

    let health = http.get(host.url("/api/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK, "{}", host.log());

    let (room_id, join_key) = new_room();
    let created: Value = http
        .post(host.url("/api/rooms"))
        .json(&json!({ "room_id": room_id, "join_key": join_key }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let joined: Value = http
        .post(host.url(&format!("/api/rooms/{room_id}/join")))
        .json(&json!({ "join_key": join_key }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let mut creator = connect(&node_a, &room_id, created["ticket"].as_str().unwrap()).await;
    let Seen::Welcome {
        member: creator_id,
        creator: true,
    } = next(&mut creator).await
    else {
        panic!("the creator is welcomed as creator");
    };
    let mut member = connect(&node_b, &room_id, joined["ticket"].as_str().unwrap()).await;
    let Seen::Welcome {
        member: member_id,
        creator: false,
    } = next(&mut member).await
    else {
        panic!("the member is welcomed");
    };
    assert_eq!(next(&mut member).await, Seen::Joined(creator_id));
    assert_eq!(next(&mut creator).await, Seen::Joined(member_id));

    // Node A to node B and back, through the TLS Redis's pub/sub.
    let broadcast = ClientFrame::Broadcast {
        payload: b"ciphertext over TLS",
    };
    creator
        .send(Message::Binary(broadcast.encode().into()))
        .await
        .unwrap();
    assert_eq!(
        next(&mut member).await,
        Seen::Broadcast {
            from: creator_id,
            payload: b"ciphertext over TLS".to_vec()
        }
    );
    let direct = ClientFrame::Direct {
        to: creator_id,
        payload: b"sealed chain",
    };
    member
        .send(Message::Binary(direct.encode().into()))
        .await
        .unwrap();
    assert_eq!(
        next(&mut creator).await,
        Seen::Direct {
            from: member_id,
            payload: b"sealed chain".to_vec()
        }
    );

    // The API's END_ROOM publishes `ended` on the TLS Redis; both nodes hear it.
    let ended = http
        .delete(host.url(&format!("/api/rooms/{room_id}")))
        .bearer_auth(created["creator_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    for ws in [&mut creator, &mut member] {
        assert_eq!(next(ws).await, Seen::Ended);
    }
    let mut conn = redis.connection(&ca.pem).await.expect("TLS Redis answers");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("vroom:{{{room_id}}}*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(keys, Vec::<String>::new());
}

/// Runs a relay node that is expected to refuse to start; its stderr.
async fn refused_relay(url: &str, args: &[&str]) -> String {
    let output = tokio::time::timeout(
        Duration::from_secs(30),
        RelayNode::command(url, "tls-refused", args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the relay gives up within 30 s")
    .expect("the relay runs");
    assert!(!output.status.success(), "the relay started");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn a_wrong_ca_or_password_fails_with_a_clear_message() {
    let ca = Ca::new("Vroom test CA");
    let redis = TlsRedis::start(&ca).await;
    let right_ca = redis.file("right-ca.pem", &ca.pem);
    let wrong_ca = redis.file("wrong-ca.pem", &Ca::new("Some other CA").pem);

    // The relay refuses to start, naming the certificate problem.
    let stderr = refused_relay(
        &redis.url(),
        &["--redis-ca-file", wrong_ca.to_str().unwrap()],
    )
    .await;
    assert!(
        stderr.contains("TLS handshake with Redis failed")
            && stderr.contains("invalid peer certificate"),
        "{stderr}"
    );
    assert!(!stderr.contains(&redis.password), "{stderr}");

    // ... and a wrong password (the right CA) likewise, at once.
    let wrong = random_b64(24);
    let stderr = refused_relay(
        &redis.url_with(&wrong),
        &["--redis-ca-file", right_ca.to_str().unwrap()],
    )
    .await;
    assert!(stderr.contains("cannot use Redis"), "{stderr}");
    assert!(!stderr.contains(&wrong), "{stderr}");

    // The API answers 503 unavailable (JSON) and the host logs why.
    let host = host(&redis, &wrong_ca, "ws://127.0.0.1:1/ws").await;
    let http = client();
    let health = http.get(host.url("/api/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = health.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
    let (room_id, join_key) = new_room();
    let create = http
        .post(host.url("/api/rooms"))
        .json(&json!({ "room_id": room_id, "join_key": join_key }))
        .send()
        .await
        .unwrap();
    assert_eq!(create.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = create.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
    let log = host.log();
    assert!(
        log.contains("TLS handshake failed") && log.contains("invalid peer certificate"),
        "{log}"
    );
    assert!(!log.contains(&redis.password), "{log}");
}

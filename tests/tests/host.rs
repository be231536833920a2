//! The local host itself: the static site component with its security
//! headers, Spin's headers, what components import, outbound policy,
//! deadlines and graceful shutdown.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use vroom_system_tests::{Host, client, repo_root};

#[tokio::test]
async fn static_site_is_served_with_security_headers() {
    let host = Host::start(&[("relay_url", "wss://relay.example.test/ws")]).await;
    let client = client();

    let index = client.get(host.url("/")).send().await.unwrap();
    assert_eq!(index.status(), StatusCode::OK);
    let headers = index.headers().clone();
    let csp = headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "connect-src 'self' wss://relay.example.test",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "CSP lacks {directive}: {csp}");
    }
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(headers.get("set-cookie").is_none());
    assert!(headers.get("strict-transport-security").is_none());
    let html = index.text().await.unwrap();
    assert!(html.contains("Vroom"));

    // Client routes fall back to the page; missing assets do not.
    let room = client
        .get(host.url("/r/AAAAAAAAAAAAAAAAAAAAAA"))
        .send()
        .await
        .unwrap();
    assert_eq!(room.status(), StatusCode::OK);
    assert_eq!(room.text().await.unwrap(), html);
    let missing = client
        .get(host.url("/missing-0123456789abcdef.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let css = client
        .get(host.url(&stylesheet(&html)))
        .send()
        .await
        .unwrap();
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(
        css.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );

    // Browsers that accept Brotli get the precompressed variant of the wasm.
    let wasm = std::fs::read_dir(repo_root().join("site/dist"))
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .find(|name| name.ends_with("_bg.wasm"))
        .map(|name| format!("/{name}"))
        .expect("the site has a wasm");
    let get = |encoding: &'static str| {
        client
            .get(host.url(&wasm))
            .header("accept-encoding", encoding)
            .send()
    };
    let raw = get("identity").await.unwrap();
    assert_eq!(raw.headers()["content-type"], "application/wasm");
    assert!(raw.headers().get("content-encoding").is_none());
    let raw_len = raw.bytes().await.unwrap().len();
    let br = get("gzip, br").await.unwrap();
    assert_eq!(br.headers()["content-encoding"], "br");
    assert_eq!(br.headers()["content-type"], "application/wasm");
    assert_eq!(br.headers()["vary"], "accept-encoding");
    let br_len = br.bytes().await.unwrap().len();
    assert!(br_len * 2 < raw_len, "brotli {br_len} vs raw {raw_len}");

    let traversal = client
        .get(host.url("/..%2f..%2fetc/passwd"))
        .send()
        .await
        .unwrap();
    assert_eq!(traversal.status(), StatusCode::NOT_FOUND);

    let post = client.post(host.url("/")).send().await.unwrap();
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
}

/// The path of the page's (hashed) stylesheet.
fn stylesheet(html: &str) -> String {
    const LINK: &str = "rel=\"stylesheet\" href=\"";
    let start = html.find(LINK).expect("a stylesheet link") + LINK.len();
    let end = html[start..].find('"').expect("a closing quote") + start;
    html[start..end].to_string()
}

#[tokio::test]
async fn hsts_is_sent_when_configured() {
    let host = Host::start(&[("hsts", "true")]).await;
    let response = client().get(host.url("/")).send().await.unwrap();
    let hsts = response.headers()["strict-transport-security"]
        .to_str()
        .unwrap();
    assert!(hsts.starts_with("max-age="));
}

#[tokio::test]
async fn clients_cannot_forge_spin_headers() {
    let host = Host::start(&[]).await;
    let client = client();
    let html = client
        .get(host.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The static component routes by `spin-path-info`; a forged one must be replaced.
    let response = client
        .get(host.url(&stylesheet(&html)))
        .header("spin-path-info", "/index.html")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "text/css; charset=utf-8"
    );
}

#[tokio::test]
async fn components_import_only_wasi_and_spin_interfaces() {
    let binary = std::env::var("VROOM_HOST_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| repo_root().join("target/release/vroom"));
    for component in ["vroom_rooms_component", "vroom_static_component"] {
        let path = repo_root().join(format!("target/wasm32-wasip2/release/{component}.wasm"));
        let output = std::process::Command::new(&binary)
            .arg("inspect")
            .arg(&path)
            .output()
            .unwrap();
        assert!(output.status.success(), "inspect {component} failed");
        let listing = String::from_utf8(output.stdout).unwrap();
        let imports: Vec<&str> = listing
            .lines()
            .filter_map(|l| l.strip_prefix("import "))
            .collect();
        assert!(!imports.is_empty());
        for import in &imports {
            assert!(
                import.starts_with("wasi:") || import.starts_with("spin:"),
                "{component} imports {import}"
            );
        }
        assert!(
            listing
                .lines()
                .any(|l| l.starts_with("export wasi:http/handler@0.3")),
            "{listing}"
        );
        if component == "vroom_rooms_component" {
            assert!(imports.iter().any(|i| i.starts_with("spin:redis/redis@3")));
        }
    }
}

/// A copy of `spin.toml` with absolute paths and one line replaced.
fn manifest_with(replace: &str, with: &str) -> tempfile_path::TempManifest {
    let root = repo_root();
    let text = std::fs::read_to_string(root.join("spin.toml")).unwrap();
    assert!(
        text.contains(replace),
        "spin.toml no longer contains {replace}"
    );
    let text = text
        .replace(replace, with)
        .replace(
            "source = \"target/",
            &format!("source = \"{}/target/", root.display()),
        )
        .replace(
            "source = \"site/dist\"",
            &format!("source = \"{}/site/dist\"", root.display()),
        );
    tempfile_path::TempManifest::new(&text)
}

mod tempfile_path {
    /// A manifest written to a unique temporary file, removed on drop.
    pub struct TempManifest(pub std::path::PathBuf);

    impl TempManifest {
        pub fn new(text: &str) -> Self {
            let path = std::env::temp_dir().join(format!(
                "vroom-test-{}.toml",
                vroom_system_tests::random_b64(9)
            ));
            std::fs::write(&path, text).unwrap();
            Self(path)
        }
    }

    impl Drop for TempManifest {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

#[tokio::test]
async fn redis_outside_allowed_outbound_hosts_is_refused() {
    let manifest = manifest_with(
        r#"allowed_outbound_hosts = ["{{ redis_url }}"]"#,
        r#"allowed_outbound_hosts = ["redis://127.0.0.1:1"]"#,
    );
    let host = Host::start_with(&manifest.0, &[], &[]).await;
    let response = client().get(host.url("/api/health")).send().await.unwrap();
    assert!(response.status().is_server_error());
    let body: Value = response.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        !message.contains("6379") && !message.contains("redis://"),
        "leaks: {message}"
    );
}

#[tokio::test]
async fn a_request_past_its_deadline_gets_504() {
    // A "Redis" that accepts connections and never answers.
    let black_hole = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = black_hole.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = black_hole.accept().await {
            held.push(socket);
        }
    });
    let host = Host::start_with(
        &repo_root().join("spin.toml"),
        &[("redis_url", &format!("redis://{address}"))],
        &["--request-timeout", "1"],
    )
    .await;
    let started = Instant::now();
    let response = client().get(host.url("/api/health")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    assert!(started.elapsed() < Duration::from_secs(5));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "timeout");
}

#[tokio::test]
async fn sigterm_shuts_down_cleanly() {
    let host = Host::start(&[]).await;
    let response = client().get(host.url("/api/health")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        host.terminate().await,
        "the host did not exit cleanly on SIGTERM"
    );
}

//! The container images of `deploy/containers/` (issue 12, item 2). Each test
//! builds an image with podman or docker (`VROOM_CONTAINER_TOOL`) from the
//! context `cargo xtask test` stages (`VROOM_IMAGE_CONTEXTS`), checks its
//! configuration, exports its file system, and runs its entrypoint on this
//! host chrooted into the exported tree as the image's user, against the
//! real Redis: what runs uses nothing but the image's files (`podman run`
//! itself is refused inside this sandbox). Needs root, as podman here does.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;
use vroom_shared::relay::{ClientFrame, RelayFrame, close};
use vroom_shared::{RoomId, Ticket};
use vroom_system_tests::{
    TempDir, client, new_room, random, random_b64, redis_host_port, redis_url,
};

/// The user both images run as.
const USER: &str = "65532:65532";

fn tool() -> String {
    std::env::var("VROOM_CONTAINER_TOOL").unwrap_or_else(|_| "podman".into())
}

/// Runs a container-tool command to completion; its stdout.
fn container(args: &[&str]) -> String {
    let output = std::process::Command::new(tool())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} (see VROOM_CONTAINER_TOOL): {e}", tool()));
    assert!(
        output.status.success(),
        "`{} {}` failed: {}",
        tool(),
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// An image built for one test, removed when dropped, and its exported
/// file system.
struct Image {
    tag: String,
    /// `image inspect`'s object.
    inspect: Value,
    root: TempDir,
}

impl Image {
    /// Builds `deploy/containers/<name>.Containerfile` from its staged
    /// context and exports the file system of a container created from it.
    fn build(name: &str) -> Self {
        let contexts = std::env::var_os("VROOM_IMAGE_CONTEXTS")
            .map(PathBuf::from)
            .unwrap_or_else(|| vroom_system_tests::repo_root().join("target/images"));
        let context = contexts.join(name);
        assert!(
            context.is_dir(),
            "{} is missing: run the tests with `cargo xtask test` (it stages the contexts)",
            context.display()
        );
        let suffix: String = random::<6>().iter().map(|b| format!("{b:02x}")).collect();
        let tag = format!("localhost/vroom-test-{name}:{suffix}");
        let containerfile = vroom_system_tests::repo_root()
            .join(format!("deploy/containers/{name}.Containerfile"))
            .display()
            .to_string();
        let context = context.display().to_string();
        let mut args = vec!["build", "-f", &containerfile, "-t", &tag];
        if tool().ends_with("podman") {
            // Docker's format keeps HEALTHCHECK; no intermediate images
            // are left behind once the test removes its tag.
            args.extend(["--format", "docker", "--layers=false"]);
        }
        args.push(&context);
        container(&args);
        let inspect: Value = serde_json::from_str(&container(&["image", "inspect", &tag]))
            .expect("image inspect prints JSON");
        let inspect = inspect[0].clone();

        let root = TempDir::new(&format!("vroom-image-{name}"));
        let tar = root.path().join("image.tar");
        let tar = tar.to_str().unwrap();
        let id = container(&["create", &tag]).trim().to_string();
        container(&["export", "-o", tar, &id]);
        container(&["rm", &id]);
        let rootfs = root.path().join("rootfs");
        std::fs::create_dir(&rootfs).unwrap();
        let status = std::process::Command::new("tar")
            .args(["-xf", tar, "-C"])
            .arg(&rootfs)
            .status()
            .expect("tar runs");
        assert!(status.success(), "the export unpacks");
        std::fs::remove_file(tar).unwrap();
        Self { tag, inspect, root }
    }

    /// The exported file system.
    fn rootfs(&self) -> PathBuf {
        self.root.path().join("rootfs")
    }

    /// A field of the image's configuration.
    fn config(&self, field: &str) -> &Value {
        &self.inspect["Config"][field]
    }

    /// The image's environment as `NAME=value` pairs.
    fn env(&self) -> Vec<(String, String)> {
        self.config("Env")
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|entry| entry.as_str()?.split_once('='))
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    /// `command` run as the image's user, chrooted into the exported file
    /// system, with the image's environment plus `env` and nothing else.
    fn command(&self, command: &[String], env: &[(&str, &str)]) -> Command {
        let user = self
            .config("User")
            .as_str()
            .expect("the image names a user");
        let mut chroot = Command::new("chroot");
        chroot
            .arg(format!("--userspec={user}"))
            .arg(self.rootfs())
            .args(command)
            .env_clear()
            .envs(self.env())
            .envs(env.iter().copied())
            .kill_on_drop(true);
        chroot
    }

    /// Entrypoint followed by Cmd.
    fn entrypoint(&self) -> Vec<String> {
        ["Entrypoint", "Cmd"]
            .into_iter()
            .flat_map(|field| self.config(field).as_array().cloned().unwrap_or_default())
            .map(|part| part.as_str().expect("exec form").to_string())
            .collect()
    }

    /// The health check command (`CMD` form), podman's or docker's field.
    fn healthcheck(&self) -> Vec<String> {
        let check = match &self.inspect["Healthcheck"] {
            Value::Null => self.config("Healthcheck"),
            check => check,
        };
        let test: Vec<String> = check["Test"]
            .as_array()
            .expect("the image has a HEALTHCHECK")
            .iter()
            .map(|part| part.as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            test[0], "CMD",
            "exec form: a FROM scratch image has no shell"
        );
        test[1..].to_vec()
    }

    /// Every file of the exported tree, relative, sorted.
    fn files(&self) -> Vec<String> {
        fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, base, out);
                } else {
                    out.push(path.strip_prefix(base).unwrap().display().to_string());
                }
            }
        }
        let mut files = Vec::new();
        walk(&self.rootfs(), &self.rootfs(), &mut files);
        files.sort();
        files
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        let _ = std::process::Command::new(tool())
            .args(["rmi", "-f", &self.tag])
            .output();
    }
}

/// A process started from an image, and the lines it printed first.
struct Running {
    child: Child,
    first_lines: Vec<String>,
}

impl Running {
    /// Starts `command` and reads `lines` lines of its stdout.
    async fn start(mut command: Command, lines: usize) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(if std::env::var_os("VROOM_TEST_LOGS").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .expect("chroot starts (the image tests need root)");
        let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut first_lines = Vec::new();
        while first_lines.len() < lines {
            let line = tokio::time::timeout(Duration::from_secs(60), out.next_line())
                .await
                .expect("the image's program prints its address within 60 s")
                .expect("stdout");
            let Some(line) = line else {
                let status = child.wait().await;
                panic!(
                    "the image's program exited ({status:?}) before printing its address \
                     (VROOM_TEST_LOGS=1 shows its stderr)"
                );
            };
            first_lines.push(line);
        }
        tokio::spawn(async move { while let Ok(Some(_)) = out.next_line().await {} });
        Self { child, first_lines }
    }

    /// SIGTERM, then its exit status's success.
    async fn terminate(mut self) -> bool {
        let pid = self.child.id().expect("running").to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().await;
        assert!(killed.unwrap().success());
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("it stops within 30 s of SIGTERM")
            .unwrap()
            .success()
    }
}

/// The relay image's node, from its exported tree, with the test's Redis.
async fn start_relay(image: &Image) -> (Running, String, String) {
    let node = Running::start(
        image.command(
            &image.entrypoint(),
            &[
                ("RELAY_LISTEN", "127.0.0.1:0"),
                ("RELAY_METRICS_LISTEN", "127.0.0.1:0"),
                ("REDIS_URL", &redis_url()),
                ("RELAY_ALLOW_ANY_ORIGIN", "true"),
            ],
        ),
        2,
    )
    .await;
    let ws = node.first_lines[0]
        .strip_prefix("Listening on ")
        .expect("`Listening on ws://…/ws`")
        .to_string();
    let metrics = node.first_lines[1]
        .strip_prefix("Metrics on ")
        .expect("`Metrics on http://…/metrics`")
        .to_string();
    (node, ws, metrics)
}

/// Whether the image's HEALTHCHECK command passes for a node on `addr`.
async fn healthcheck_passes(image: &Image, addr: &str) -> bool {
    image
        .command(&image.healthcheck(), &[("RELAY_LISTEN", addr)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .expect("the health check runs")
        .success()
}

/// The address part of `ws://ADDR/ws`.
fn addr_of(ws: &str) -> &str {
    ws.trim_start_matches("ws://").trim_end_matches("/ws")
}

/// GETs `url` until it answers `200` (the node links to Redis after it
/// listens); panics after 30 s.
async fn until_ok(url: &str) -> String {
    let http = client();
    for _ in 0..300 {
        if let Ok(response) = http.get(url).send().await
            && response.status() == StatusCode::OK
        {
            return response.text().await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} did not answer 200 within 30 s");
}

#[tokio::test]
async fn relay_image_is_one_static_binary_run_by_a_non_root_user_with_a_health_check() {
    let image = Image::build("relay");
    assert_eq!(image.config("User"), USER);
    assert_eq!(image.entrypoint(), ["/edge-ws-bridge"]);
    for port in ["3001/tcp", "9091/tcp"] {
        assert!(
            image.config("ExposedPorts").get(port).is_some(),
            "exposes {port}"
        );
    }
    // Nothing but the binary and the CA bundle: no libc, no shell.
    assert_eq!(
        image.files(),
        ["edge-ws-bridge", "etc/ssl/certs/ca-certificates.crt"]
    );

    // It runs from the tree alone, so it is static; as 65532, so the
    // image's user may run it.
    let (node, ws, metrics) = start_relay(&image).await;
    let addr = addr_of(&ws).to_string();
    assert_eq!(until_ok(&format!("http://{addr}/healthz")).await, "ok\n");
    let text = until_ok(&metrics).await;
    assert!(text.contains("relay_redis_up 1\n"), "{text}");

    assert!(
        healthcheck_passes(&image, &addr).await,
        "healthy while serving"
    );
    assert!(node.terminate().await, "SIGTERM drains and exits cleanly");
    assert!(
        !healthcheck_passes(&image, &addr).await,
        "unhealthy once stopped"
    );
}

#[tokio::test]
async fn http_image_serves_the_site_and_the_api_and_with_the_relay_image_holds_a_room() {
    let http_image = Image::build("http");
    let relay_image = Image::build("relay");
    assert_eq!(http_image.config("User"), USER);
    assert!(
        http_image.config("ExposedPorts").get("3000/tcp").is_some(),
        "exposes 3000"
    );
    let files = http_image.files();
    for file in [
        "app/vroom",
        "app/spin.toml",
        "app/target/wasm32-wasip2/release/vroom_rooms_component.wasm",
        "app/target/wasm32-wasip2/release/vroom_static_component.wasm",
        "app/site/dist/index.html",
        "lib64/ld-linux-x86-64.so.2",
    ] {
        assert!(files.iter().any(|f| f == file), "the image lacks {file}");
    }

    let (relay, ws, _) = start_relay(&relay_image).await;
    let host = Running::start(
        http_image.command(
            &http_image.entrypoint(),
            &[
                ("VROOM_LISTEN", "127.0.0.1:0"),
                (
                    "SPIN_VARIABLE_REDIS_URL",
                    &format!("redis://{}", redis_host_port()),
                ),
                ("SPIN_VARIABLE_RELAY_URL", &ws),
                ("SPIN_VARIABLE_RATE_KEY_SECRET", &random_b64(32)),
            ],
        ),
        1,
    )
    .await;
    let base = host.first_lines[0]
        .strip_prefix("Serving ")
        .expect("`Serving http://…`")
        .to_string();
    let http = client();

    let page = http.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Vroom"));
    let health = http.get(format!("{base}/api/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    until_ok(&format!("http://{}/healthz", addr_of(&ws))).await;

    // A room: created through the image's API, joined on the image's relay,
    // ended through the API, which reaches the socket.
    let (room_id, join_key) = new_room();
    let created: Value = http
        .post(format!("{base}/api/rooms"))
        .json(&json!({ "room_id": room_id, "join_key": join_key }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["relay"], ws.as_str());
    let (mut socket, _) = connect_async(ws.as_str()).await.expect("relay accepts");
    let hello = ClientFrame::Hello {
        room: room_id.parse::<RoomId>().unwrap(),
        ticket: created["ticket"]
            .as_str()
            .unwrap()
            .parse::<Ticket>()
            .unwrap(),
    };
    socket
        .send(Message::Binary(hello.encode().into()))
        .await
        .unwrap();
    let mut welcomed = false;
    let mut ended = false;
    while let Ok(Some(Ok(message))) =
        tokio::time::timeout(Duration::from_secs(10), socket.next()).await
    {
        match message {
            Message::Binary(bytes) => match RelayFrame::decode(&bytes).unwrap() {
                RelayFrame::Welcome { creator, .. } => {
                    assert!(creator, "welcomed as the creator");
                    welcomed = true;
                    let ended = http
                        .delete(format!("{base}/api/rooms/{room_id}"))
                        .bearer_auth(created["creator_token"].as_str().unwrap())
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
                }
                RelayFrame::Ended => ended = true,
                _ => {}
            },
            Message::Close(frame) => {
                assert_eq!(frame.map(|f| u16::from(f.code)), Some(close::ROOM_ENDED));
                break;
            }
            _ => {}
        }
    }
    assert!(welcomed && ended, "welcomed, then told the room ended");
    assert!(host.terminate().await, "the host stops cleanly on SIGTERM");
    assert!(relay.terminate().await);
}

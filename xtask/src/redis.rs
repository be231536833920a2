//! Finding a Redis to use, or starting a private one.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A Redis the project's processes use, and the private server if this run
/// started one (stopped and removed on drop).
pub struct Redis {
    /// Its URL as given: `redis://` or `rediss://` (TLS, the CA from the
    /// system or `SSL_CERT_FILE`), perhaps with `user:password@` and a
    /// database. What relays and tests get.
    pub url: String,
    /// `host:port`.
    pub host_port: String,
    parts: UrlParts,
    private: Option<(Child, tempfile::TempDir)>,
}

impl Redis {
    /// `REDIS_URL` if set (`redis://` or `rediss://`, with an ACL user if
    /// it needs one), else 127.0.0.1:6379 if it answers, else a private
    /// `redis-server` (no persistence, temporary directory).
    pub fn find_or_start() -> Result<Self> {
        if let Ok(url) = std::env::var("REDIS_URL") {
            let parts = UrlParts::of(&url)?;
            pings(&url).with_context(|| {
                format!(
                    "Redis at REDIS_URL ({}://{}) does not answer PING",
                    parts.scheme, parts.host_port
                )
            })?;
            eprintln!(
                "    using Redis from REDIS_URL ({}://{})",
                parts.scheme, parts.host_port
            );
            return Ok(Self {
                url,
                host_port: parts.host_port.clone(),
                parts,
                private: None,
            });
        }
        if pings("redis://127.0.0.1:6379").is_ok() {
            eprintln!("    using the Redis at 127.0.0.1:6379");
            return Ok(Self::plain("127.0.0.1:6379", None));
        }
        Self::start_private()
    }

    /// A Redis at `redis://host_port` without credentials.
    fn plain(host_port: &str, private: Option<(Child, tempfile::TempDir)>) -> Self {
        Self {
            url: format!("redis://{host_port}"),
            host_port: host_port.to_string(),
            parts: UrlParts {
                scheme: "redis".into(),
                host_port: host_port.to_string(),
                username: String::new(),
                password: String::new(),
            },
            private,
        }
    }

    /// A private `redis-server` on a free port (no persistence, temporary
    /// directory), stopped on drop.
    pub fn start_private() -> Result<Self> {
        if Command::new("redis-server")
            .arg("--version")
            .output()
            .is_err()
        {
            bail!(
                "no Redis answers at 127.0.0.1:6379 and `redis-server` is not installed.\n\
                 Install Redis (Debian/Ubuntu: `sudo apt-get install redis-server`; macOS: \
                 `brew install redis`) or set REDIS_URL=redis://host:port."
            );
        }
        let dir = tempfile::tempdir()?;
        let port = free_port()?;
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .context("cannot start redis-server")?;
        let redis = Self::plain(&format!("127.0.0.1:{port}"), Some((child, dir)));
        let started = Instant::now();
        while pings(&redis.url).is_err() {
            if started.elapsed() > Duration::from_secs(10) {
                bail!("the private redis-server did not answer within 10 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("    started a private redis-server on {}", redis.host_port);
        Ok(redis)
    }

    /// The `SPIN_VARIABLE_*` settings that point the rooms component at it:
    /// `redis_url` (scheme, host and port: also its allowed outbound host)
    /// and the ACL user and password, percent-decoded.
    pub fn spin_variables(&self) -> [(&'static str, String); 3] {
        let parts = &self.parts;
        [
            (
                "SPIN_VARIABLE_REDIS_URL",
                format!("{}://{}", parts.scheme, parts.host_port),
            ),
            ("SPIN_VARIABLE_REDIS_USERNAME", parts.username.clone()),
            ("SPIN_VARIABLE_REDIS_PASSWORD", parts.password.clone()),
        ]
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some((child, _dir)) = &mut self.private {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// What a `redis://` or `rediss://` URL names.
struct UrlParts {
    scheme: String,
    /// `host:port` (port 6379 if the URL has none).
    host_port: String,
    /// Percent-decoded; empty when the URL has none.
    username: String,
    password: String,
}

impl UrlParts {
    fn of(url: &str) -> Result<Self> {
        let Some((scheme, rest)) = url
            .split_once("://")
            .filter(|(scheme, _)| matches!(*scheme, "redis" | "rediss"))
        else {
            bail!("REDIS_URL must look like redis://[user:password@]host:port or rediss://…");
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let (userinfo, host) = authority.rsplit_once('@').unwrap_or(("", authority));
        let (username, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
        let host_port = if host.rsplit_once(':').is_some_and(|(_, p)| !p.contains(']')) {
            host.to_string()
        } else {
            format!("{host}:6379")
        };
        Ok(Self {
            scheme: scheme.to_string(),
            host_port,
            username: percent_decode(username),
            password: percent_decode(password),
        })
    }
}

/// `%XX` escapes replaced by their bytes (invalid ones kept as they are).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether the Redis at `url` answers PING (over TLS for `rediss://`, as
/// its ACL user if the URL names one), within half a second.
fn pings(url: &str) -> Result<()> {
    let client = redis::Client::open(url).context("invalid Redis URL")?;
    let mut conn = client
        .get_connection_with_timeout(Duration::from_millis(500))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    conn.set_read_timeout(Some(Duration::from_millis(500)))?;
    redis::cmd("PING")
        .query::<String>(&mut conn)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_what_the_rooms_component_needs() {
        let parts = UrlParts::of("rediss://vroom:p%40ss%3Aw@cache.example:6380/0").unwrap();
        assert_eq!(parts.scheme, "rediss");
        assert_eq!(parts.host_port, "cache.example:6380");
        assert_eq!(
            (parts.username.as_str(), parts.password.as_str()),
            ("vroom", "p@ss:w")
        );
        let parts = UrlParts::of("redis://127.0.0.1").unwrap();
        assert_eq!(parts.host_port, "127.0.0.1:6379");
        assert_eq!(parts.username, "");
        let parts = UrlParts::of("redis://[::1]").unwrap();
        assert_eq!(parts.host_port, "[::1]:6379");
        assert!(UrlParts::of("http://127.0.0.1:6379").is_err());
    }
}

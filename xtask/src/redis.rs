//! Finding a Redis to use, or starting a private one.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A Redis the project's processes use: `host:port`, and the private server
/// if this run started one (stopped and removed on drop).
pub struct Redis {
    /// `host:port`.
    pub host_port: String,
    private: Option<(Child, tempfile::TempDir)>,
}

impl Redis {
    /// `REDIS_URL` if set, else 127.0.0.1:6379 if it answers, else a private
    /// `redis-server` (no persistence, temporary directory).
    pub fn find_or_start() -> Result<Self> {
        if let Ok(url) = std::env::var("REDIS_URL") {
            let host_port = host_port_of(&url)?;
            ensure_answers(&host_port)
                .with_context(|| format!("REDIS_URL={url} does not answer"))?;
            eprintln!("    using Redis from REDIS_URL ({host_port})");
            return Ok(Self {
                host_port,
                private: None,
            });
        }
        if pings("127.0.0.1:6379") {
            eprintln!("    using the Redis at 127.0.0.1:6379");
            return Ok(Self {
                host_port: "127.0.0.1:6379".into(),
                private: None,
            });
        }
        Self::start_private()
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
        let host_port = format!("127.0.0.1:{port}");
        let redis = Self {
            host_port,
            private: Some((child, dir)),
        };
        let started = Instant::now();
        while !pings(&redis.host_port) {
            if started.elapsed() > Duration::from_secs(10) {
                bail!("the private redis-server did not answer within 10 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("    started a private redis-server on {}", redis.host_port);
        Ok(redis)
    }

    /// `redis://host:port`.
    pub fn url(&self) -> String {
        format!("redis://{}", self.host_port)
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

fn host_port_of(url: &str) -> Result<String> {
    let rest = url
        .strip_prefix("redis://")
        .context("REDIS_URL must look like redis://host:port")?;
    let authority = rest.split('/').next().unwrap_or_default();
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    Ok(if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:6379")
    })
}

fn ensure_answers(host_port: &str) -> Result<()> {
    if pings(host_port) {
        Ok(())
    } else {
        bail!("no PONG")
    }
}

/// Whether a Redis at `host_port` answers PING.
fn pings(host_port: &str) -> bool {
    let Some(addr) = host_port
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
    else {
        return false;
    };
    ping(addr).unwrap_or(false)
}

fn ping(addr: SocketAddr) -> std::io::Result<bool> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    stream.set_read_timeout(Some(Duration::from_millis(500)))?;
    stream.write_all(b"PING\r\n")?;
    let mut reply = [0u8; 7];
    stream.read_exact(&mut reply)?;
    Ok(&reply == b"+PONG\r\n")
}

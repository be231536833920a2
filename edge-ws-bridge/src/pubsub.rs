//! A minimal RESP2 pub/sub connection: `SUBSCRIBE`/`SSUBSCRIBE` (Redis 7
//! sharded pub/sub) and their `UNSUBSCRIBE`s, `PING`, and the `message` /
//! `smessage` pushes. The `redis` crate's async pub/sub has no `SSUBSCRIBE`
//! outside its cluster client, so the relay speaks this small part of the
//! protocol itself. Plain TCP only (no `rediss://`).

use bytes::{Buf as _, Bytes, BytesMut};
use redis::{ConnectionAddr, ErrorKind, RedisError, RedisResult};
use std::collections::VecDeque;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// A RESP2 value, as far as pub/sub needs one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resp {
    Simple(Bytes),
    Error(Bytes),
    Int(i64),
    Bulk(Option<Bytes>),
    Array(Option<Vec<Resp>>),
}

/// Largest bulk string or array accepted from Redis.
const MAX_BULK: usize = 64 << 20;

/// Parses one value from the front of `buf`; `Ok(None)` if incomplete.
pub(crate) fn parse(buf: &mut BytesMut) -> Result<Option<Resp>, &'static str> {
    let mut pos = 0;
    match parse_at(buf, &mut pos)? {
        Some(v) => {
            buf.advance(pos);
            Ok(Some(v))
        }
        None => Ok(None),
    }
}

fn line<'a>(buf: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let rest = buf.get(*pos..)?;
    let end = rest.windows(2).position(|w| w == b"\r\n")?;
    *pos += end + 2;
    Some(&rest[..end])
}

fn int(text: &[u8]) -> Result<i64, &'static str> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or("bad integer")
}

fn parse_at(buf: &BytesMut, pos: &mut usize) -> Result<Option<Resp>, &'static str> {
    let Some(&kind) = buf.get(*pos) else {
        return Ok(None);
    };
    *pos += 1;
    let Some(head) = line(buf, pos) else {
        return Ok(None);
    };
    let head = head.to_vec();
    Ok(Some(match kind {
        b'+' => Resp::Simple(Bytes::from(head)),
        b'-' => Resp::Error(Bytes::from(head)),
        b':' => Resp::Int(int(&head)?),
        b'$' => {
            let len = int(&head)?;
            if len < 0 {
                Resp::Bulk(None)
            } else {
                let len = usize::try_from(len).map_err(|_| "bad length")?;
                if len > MAX_BULK {
                    return Err("bulk too large");
                }
                if buf.len() < *pos + len + 2 {
                    return Ok(None);
                }
                let data = Bytes::copy_from_slice(&buf[*pos..*pos + len]);
                *pos += len + 2;
                Resp::Bulk(Some(data))
            }
        }
        b'*' => {
            let len = int(&head)?;
            if len < 0 {
                Resp::Array(None)
            } else {
                let len = usize::try_from(len).map_err(|_| "bad length")?;
                if len > MAX_BULK {
                    return Err("array too large");
                }
                let mut items = Vec::with_capacity(len.min(16));
                for _ in 0..len {
                    match parse_at(buf, pos)? {
                        Some(v) => items.push(v),
                        None => return Ok(None),
                    }
                }
                Resp::Array(Some(items))
            }
        }
        _ => return Err("unknown RESP type"),
    }))
}

fn encode(args: &[&[u8]], out: &mut Vec<u8>) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

fn io_err(err: std::io::Error) -> RedisError {
    RedisError::from(err)
}

fn proto_err(what: &'static str) -> RedisError {
    RedisError::from((ErrorKind::Parse, what))
}

/// A dedicated pub/sub connection.
pub(crate) struct PubSubConn {
    stream: TcpStream,
    buf: BytesMut,
    /// Messages that arrived while waiting for a command's reply.
    pending: VecDeque<(Bytes, Bytes)>,
}

impl PubSubConn {
    /// Connects to the client's address and authenticates as its URL says.
    pub async fn connect(client: &redis::Client) -> RedisResult<Self> {
        let info = client.get_connection_info();
        let ConnectionAddr::Tcp(host, port) = info.addr() else {
            return Err(RedisError::from((
                ErrorKind::InvalidClientConfig,
                "the relay's pub/sub connection supports redis:// (TCP) only",
            )));
        };
        let stream = TcpStream::connect((host.as_str(), *port))
            .await
            .map_err(io_err)?;
        stream.set_nodelay(true).map_err(io_err)?;
        let mut conn = Self {
            stream,
            buf: BytesMut::with_capacity(16 * 1024),
            pending: VecDeque::new(),
        };
        let settings = info.redis_settings();
        if let Some(password) = settings.password() {
            match settings.username() {
                Some(user) => {
                    conn.request(&[b"AUTH", user.as_bytes(), password.as_bytes()])
                        .await?
                }
                None => conn.request(&[b"AUTH", password.as_bytes()]).await?,
            };
        }
        Ok(conn)
    }

    async fn send(&mut self, args: &[&[u8]]) -> RedisResult<()> {
        let mut out = Vec::new();
        encode(args, &mut out);
        self.stream.write_all(&out).await.map_err(io_err)
    }

    async fn read_value(&mut self) -> RedisResult<Resp> {
        loop {
            if let Some(v) = parse(&mut self.buf).map_err(proto_err)? {
                return Ok(v);
            }
            if self.buf.capacity() - self.buf.len() < 4096 {
                self.buf.reserve(16 * 1024);
            }
            let n = self.stream.read_buf(&mut self.buf).await.map_err(io_err)?;
            if n == 0 {
                return Err(RedisError::from(std::io::Error::from(
                    std::io::ErrorKind::UnexpectedEof,
                )));
            }
        }
    }

    /// Reads until a value that is not a published message arrives, setting
    /// messages aside.
    async fn read_reply(&mut self) -> RedisResult<Resp> {
        loop {
            let v = self.read_value().await?;
            if let Some(msg) = as_message(&v) {
                self.pending.push_back(msg);
                continue;
            }
            if let Resp::Error(e) = &v {
                return Err(RedisError::from((
                    ErrorKind::Server(redis::ServerErrorKind::ResponseError),
                    "server error",
                    String::from_utf8_lossy(e).into_owned(),
                )));
            }
            return Ok(v);
        }
    }

    async fn request(&mut self, args: &[&[u8]]) -> RedisResult<Resp> {
        self.send(args).await?;
        self.read_reply().await
    }

    /// Sends a (un)subscribe-like command and waits for one confirmation per
    /// channel.
    pub async fn command(&mut self, cmd: &str, channels: &[&[u8]]) -> RedisResult<()> {
        let mut args: Vec<&[u8]> = Vec::with_capacity(channels.len() + 1);
        args.push(cmd.as_bytes());
        args.extend_from_slice(channels);
        self.send(&args).await?;
        for _ in 0..channels.len().max(1) {
            self.read_reply().await?;
        }
        Ok(())
    }

    /// `PING` in subscribed mode.
    pub async fn ping(&mut self) -> RedisResult<()> {
        self.request(&[b"PING"]).await.map(|_| ())
    }

    /// The next published message `(channel, payload)`; `None` when the
    /// connection is gone.
    pub async fn next_message(&mut self) -> Option<(Bytes, Bytes)> {
        if let Some(m) = self.pending.pop_front() {
            return Some(m);
        }
        loop {
            let v = self.read_value().await.ok()?;
            if let Some(m) = as_message(&v) {
                return Some(m);
            }
            // Confirmations and pongs only arrive for commands, which wait
            // for them in `read_reply`; anything else here is ignored.
        }
    }
}

/// `message channel payload` or `smessage channel payload`.
fn as_message(v: &Resp) -> Option<(Bytes, Bytes)> {
    let Resp::Array(Some(items)) = v else {
        return None;
    };
    match items.as_slice() {
        [
            Resp::Bulk(Some(kind)),
            Resp::Bulk(Some(channel)),
            Resp::Bulk(Some(payload)),
        ] if kind.as_ref() == b"message" || kind.as_ref() == b"smessage" => {
            Some((channel.clone(), payload.clone()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pushes_in_pieces() {
        let wire = b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\na\r\n\r\n:5\r\n+PONG\r\n";
        for split in 0..wire.len() {
            let mut buf = BytesMut::from(&wire[..split]);
            let first = parse(&mut buf).unwrap();
            if first.is_none() {
                buf.extend_from_slice(&wire[split..]);
                let v = parse(&mut buf).unwrap().unwrap();
                assert_eq!(
                    as_message(&v),
                    Some((Bytes::from_static(b"ch"), Bytes::from_static(b"a\r\n")))
                );
            }
        }
        let mut buf = BytesMut::from(&wire[..]);
        parse(&mut buf).unwrap().unwrap();
        assert_eq!(parse(&mut buf).unwrap(), Some(Resp::Int(5)));
        assert_eq!(
            parse(&mut buf).unwrap(),
            Some(Resp::Simple(Bytes::from_static(b"PONG")))
        );
        assert_eq!(parse(&mut buf).unwrap(), None);
        assert!(parse(&mut BytesMut::from(&b"?x\r\n"[..])).is_err());
    }
}

//! The Spin interfaces components import besides WASI: `spin:redis` (backed
//! by a real Redis through the `redis` crate — `redis://` or `rediss://`
//! (rustls, the system's roots or `SSL_CERT_FILE`), with the address's ACL
//! user —, within the component's `allowed_outbound_hosts`) and
//! `spin:variables`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;
use wasmtime::component::{Accessor, HasData, Linker, Resource};

use crate::outbound::Destination;
use crate::state::RequestState;

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "vroom:host/spin-imports",
        imports: { default: trappable },
        with: { "spin:redis/redis.connection": super::RedisConnection },
    });
}

use bindings::spin::redis::redis::{self as spin_redis, RedisParameter, RedisResult};
use bindings::spin::variables::variables as spin_variables;

/// How long opening a Redis connection may take before the guest gets an error.
const REDIS_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one Redis command may take before the guest gets an error.
const REDIS_RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Adds `spin:redis` and `spin:variables` to the linker.
pub fn add_to_linker(linker: &mut Linker<RequestState>) -> wasmtime::Result<()> {
    spin_redis::add_to_linker::<_, SpinInterfaces>(linker, |state| state)?;
    spin_variables::add_to_linker::<_, SpinInterfaces>(linker, |state| state)?;
    Ok(())
}

/// Marker type through which the generated bindings reach [`RequestState`].
pub struct SpinInterfaces;

impl HasData for SpinInterfaces {
    type Data<'a> = &'a mut RequestState;
}

/// Redis connections shared by every request, one multiplexed, reconnecting
/// connection per address.
#[derive(Default)]
pub struct RedisPool {
    connections: Mutex<HashMap<String, Arc<OnceCell<ConnectionManager>>>>,
}

impl RedisPool {
    async fn connect(&self, address: &str) -> Result<ConnectionManager, spin_redis::Error> {
        let cell = {
            let mut connections = self
                .connections
                .lock()
                .map_err(|_| other_error("connection pool unavailable"))?;
            connections.entry(address.to_string()).or_default().clone()
        };
        cell.get_or_try_init(|| async {
            let client =
                redis::Client::open(address).map_err(|_| spin_redis::Error::InvalidAddress)?;
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(REDIS_CONNECT_TIMEOUT))
                .set_response_timeout(Some(REDIS_RESPONSE_TIMEOUT))
                .set_number_of_retries(1);
            ConnectionManager::new_with_config(client, config)
                .await
                .map_err(|err| {
                    tracing::warn!(error = %connect_failure(&err), "cannot connect to Redis");
                    other_error("cannot connect to Redis")
                })
        })
        .await
        .cloned()
    }
}

/// Why a connection failed, for the host's log: the `redis` crate's text
/// (never the address or a password) or, when the TLS handshake failed, the
/// certificate problem rustls found. The CA is the system's, or
/// `SSL_CERT_FILE` / `SSL_CERT_DIR`, as for real Spin.
fn connect_failure(err: &redis::RedisError) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(tls) = rustls_error(e) {
            return format!(
                "TLS handshake failed: {tls} (trust the server's CA: system store, \
                 SSL_CERT_FILE or SSL_CERT_DIR)"
            );
        }
        source = e.source();
    }
    err.to_string()
}

/// `e` as a rustls error: itself, inside an I/O error (tokio-rustls), or
/// inside the `Arc` the `redis` crate keeps I/O errors in (whose `source`
/// skips the I/O error itself).
fn rustls_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        return io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    }
    e.downcast_ref::<Arc<dyn std::error::Error + Send + Sync>>()
        .and_then(|inner| rustls_error(&**inner))
}

/// The host side of a guest's `spin:redis` connection resource.
pub struct RedisConnection {
    manager: ConnectionManager,
}

fn other_error(message: &str) -> spin_redis::Error {
    spin_redis::Error::Other(message.to_string())
}

fn redis_error(err: &redis::RedisError) -> spin_redis::Error {
    match err.kind() {
        redis::ErrorKind::UnexpectedReturnType => spin_redis::Error::TypeError,
        _ if err.is_timeout() || err.is_connection_dropped() || err.is_io_error() => {
            other_error("Redis is unreachable")
        }
        // Redis' own message (e.g. a script error) helps the component's author
        // and never carries a command argument.
        _ => other_error(&format!("Redis error: {}", err.category())),
    }
}

/// Flattens a reply into Spin's list of results, as Spin does: arrays, sets
/// and maps are spliced in order.
fn flatten(value: redis::Value, out: &mut Vec<RedisResult>) -> Result<(), spin_redis::Error> {
    match value {
        redis::Value::Nil => out.push(RedisResult::Nil),
        redis::Value::Int(n) => out.push(RedisResult::Int64(n)),
        redis::Value::BulkString(bytes) => out.push(RedisResult::Binary(bytes)),
        redis::Value::SimpleString(status) => out.push(RedisResult::Status(status)),
        redis::Value::Okay => out.push(RedisResult::Status("OK".into())),
        redis::Value::Boolean(b) => out.push(RedisResult::Int64(i64::from(b))),
        redis::Value::Double(d) => out.push(RedisResult::Binary(d.to_string().into_bytes())),
        redis::Value::VerbatimString { text, .. } => {
            out.push(RedisResult::Binary(text.into_bytes()))
        }
        redis::Value::BigNumber(n) => out.push(RedisResult::Binary(n)),
        redis::Value::Array(items) | redis::Value::Set(items) => {
            for item in items {
                flatten(item, out)?;
            }
        }
        redis::Value::Map(pairs) => {
            for (key, value) in pairs {
                flatten(key, out)?;
                flatten(value, out)?;
            }
        }
        redis::Value::Attribute { data, .. } => flatten(*data, out)?,
        redis::Value::ServerError(err) => return Err(redis_error(&err.into())),
        // Push messages and future reply kinds have no Spin representation.
        _ => return Err(spin_redis::Error::TypeError),
    }
    Ok(())
}

impl RequestState {
    /// Looks up a guest's connection, cloning the cheap handle out of the table.
    fn redis_connection(
        &self,
        connection: &Resource<RedisConnection>,
    ) -> wasmtime::Result<ConnectionManager> {
        Ok(self.table.get(connection)?.manager.clone())
    }
}

/// Runs one command on a connection taken from the store.
async fn query<T: Send, R: redis::FromRedisValue>(
    accessor: &Accessor<T, SpinInterfaces>,
    connection: &Resource<RedisConnection>,
    command: redis::Cmd,
) -> wasmtime::Result<Result<R, spin_redis::Error>> {
    let mut manager = accessor.with(|mut access| access.get().redis_connection(connection))?;
    Ok(command
        .query_async::<R>(&mut manager)
        .await
        .map_err(|err| redis_error(&err)))
}

impl spin_redis::Host for &mut RequestState {}

impl spin_redis::HostConnection for &mut RequestState {
    fn drop(&mut self, connection: Resource<RedisConnection>) -> wasmtime::Result<()> {
        self.table.delete(connection)?;
        Ok(())
    }
}

impl<T: Send> spin_redis::HostConnectionWithStore<T> for SpinInterfaces {
    async fn open(
        accessor: &Accessor<T, Self>,
        address: String,
    ) -> wasmtime::Result<Result<Resource<RedisConnection>, spin_redis::Error>> {
        let Ok(destination) = Destination::parse(&address) else {
            return Ok(Err(spin_redis::Error::InvalidAddress));
        };
        if destination.scheme != "redis" && destination.scheme != "rediss" {
            return Ok(Err(spin_redis::Error::InvalidAddress));
        }
        let (allowed, pool, component) = accessor.with(|mut access| {
            let state = access.get();
            (
                state.component.allowed_hosts.allows(&destination),
                state.redis.clone(),
                state.component.id.clone(),
            )
        });
        if !allowed {
            tracing::warn!(%component, host = %destination.host, port = destination.port,
                "Redis address not in allowed_outbound_hosts");
            return Ok(Err(spin_redis::Error::InvalidAddress));
        }
        let manager = match pool.connect(&address).await {
            Ok(manager) => manager,
            Err(err) => return Ok(Err(err)),
        };
        let resource =
            accessor.with(|mut access| access.get().table.push(RedisConnection { manager }))?;
        Ok(Ok(resource))
    }

    async fn publish(
        accessor: &Accessor<T, Self>,
        connection: Resource<RedisConnection>,
        channel: String,
        payload: Vec<u8>,
    ) -> wasmtime::Result<Result<(), spin_redis::Error>> {
        let mut command = redis::cmd("PUBLISH");
        command.arg(channel).arg(payload);
        query::<_, ()>(accessor, &connection, command).await
    }

    async fn get(
        accessor: &Accessor<T, Self>,
        connection: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, spin_redis::Error>> {
        let mut command = redis::cmd("GET");
        command.arg(key);
        query(accessor, &connection, command).await
    }

    async fn set(
        accessor: &Accessor<T, Self>,
        connection: Resource<RedisConnection>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), spin_redis::Error>> {
        let mut command = redis::cmd("SET");
        command.arg(key).arg(value);
        query::<_, ()>(accessor, &connection, command).await
    }

    async fn incr(
        accessor: &Accessor<T, Self>,
        connection: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<i64, spin_redis::Error>> {
        let mut command = redis::cmd("INCR");
        command.arg(key);
        query(accessor, &connection, command).await
    }

    async fn del(
        accessor: &Accessor<T, Self>,
        connection: Resource<RedisConnection>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<u32, spin_redis::Error>> {
        let mut command = redis::cmd("DEL");
        command.arg(keys);
        query(accessor, &connection, command).await
    }

    async fn sadd(
        accessor: &Accessor<T, Self>,
        connection: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, spin_redis::Error>> {
        let mut command = redis::cmd("SADD");
        command.arg(key).arg(values);
        query(accessor, &connection, command).await
    }

    async fn smembers(
        accessor: &Accessor<T, Self>,
        connection: Resource<RedisConnection>,
        key: String,
    ) -> wasmtime::Result<Result<Vec<String>, spin_redis::Error>> {
        let mut command = redis::cmd("SMEMBERS");
        command.arg(key);
        query(accessor, &connection, command).await
    }

    async fn srem(
        accessor: &Accessor<T, Self>,
        connection: Resource<RedisConnection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, spin_redis::Error>> {
        let mut command = redis::cmd("SREM");
        command.arg(key).arg(values);
        query(accessor, &connection, command).await
    }

    async fn execute(
        accessor: &Accessor<T, Self>,
        connection: Resource<RedisConnection>,
        command: String,
        arguments: Vec<RedisParameter>,
    ) -> wasmtime::Result<Result<Vec<RedisResult>, spin_redis::Error>> {
        let mut cmd = redis::cmd(&command);
        for argument in arguments {
            match argument {
                RedisParameter::Int64(n) => cmd.arg(n),
                RedisParameter::Binary(bytes) => cmd.arg(bytes),
            };
        }
        let value = match query::<_, redis::Value>(accessor, &connection, cmd).await? {
            Ok(value) => value,
            Err(err) => return Ok(Err(err)),
        };
        let mut results = Vec::new();
        Ok(flatten(value, &mut results).map(|()| results))
    }
}

impl spin_variables::Host for &mut RequestState {}

impl<T: Send> spin_variables::HostWithStore<T> for SpinInterfaces {
    async fn get(
        accessor: &Accessor<T, Self>,
        name: String,
    ) -> wasmtime::Result<Result<String, spin_variables::Error>> {
        Ok(accessor.with(|mut access| {
            let component = &access.get().component;
            if crate::manifest::check_variable_name(&name).is_err() {
                return Err(spin_variables::Error::InvalidName(name));
            }
            component
                .variables
                .get(&name)
                .cloned()
                .ok_or(spin_variables::Error::Undefined(name))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_flatten_like_spin() {
        let reply = redis::Value::Array(vec![
            redis::Value::Int(1),
            redis::Value::Array(vec![
                redis::Value::BulkString(b"a".to_vec()),
                redis::Value::Nil,
            ]),
            redis::Value::Okay,
        ]);
        let mut out = Vec::new();
        flatten(reply, &mut out).unwrap();
        assert!(matches!(
            out.as_slice(),
            [
                RedisResult::Int64(1),
                RedisResult::Binary(a),
                RedisResult::Nil,
                RedisResult::Status(ok)
            ] if a == b"a" && ok == "OK"
        ));
    }
}

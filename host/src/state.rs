//! What one request's store holds: WASI and `wasi:http` contexts, the
//! component's resolved configuration and the shared Redis connections.

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

use crate::manifest::FileMount;
use crate::outbound::AllowedHosts;
use crate::spin::RedisPool;

/// Most linear memory one request's instance may grow to.
pub const MAX_MEMORY_BYTES: usize = 128 * 1024 * 1024;

/// A component's configuration, resolved once at start.
#[derive(Debug)]
pub struct ComponentConfig {
    /// The manifest's component id.
    pub id: String,
    /// Component variables with templates rendered.
    pub variables: BTreeMap<String, String>,
    /// Where it may connect.
    pub allowed_hosts: AllowedHosts,
    /// Directories mounted read-only into the guest.
    pub files: Vec<FileMount>,
    /// Guest environment variables.
    pub environment: Vec<(String, String)>,
}

/// The data of one request's `Store`.
pub struct RequestState {
    /// Guest resources (requests, responses, Redis connections, …).
    pub table: ResourceTable,
    /// WASI context: mounted files, environment, stdio.
    pub wasi: WasiCtx,
    /// `wasi:http` context.
    pub http: WasiHttpCtx,
    /// Outgoing-request policy: none are allowed.
    pub http_hooks: DenyOutboundHttp,
    /// Memory and table limits.
    pub limits: StoreLimits,
    /// The component being run.
    pub component: Arc<ComponentConfig>,
    /// Redis connections shared across requests.
    pub redis: Arc<RedisPool>,
}

impl RequestState {
    /// Fresh state for one request to `component`.
    pub fn new(component: Arc<ComponentConfig>, redis: Arc<RedisPool>) -> anyhow::Result<Self> {
        let mut wasi = WasiCtx::builder();
        wasi.inherit_stdout()
            .inherit_stderr()
            .envs(&component.environment);
        for mount in &component.files {
            wasi.preopened_dir(&mount.host_dir, &mount.guest_path, FsPerms::ReadOnly)?;
        }
        Ok(Self {
            table: ResourceTable::new(),
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            http_hooks: DenyOutboundHttp,
            limits: StoreLimitsBuilder::new()
                .memory_size(MAX_MEMORY_BYTES)
                .build(),
            component,
            redis,
        })
    }
}

impl WasiView for RequestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for RequestState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.http_hooks,
        }
    }
}

/// Components get no outgoing HTTP: Spin would need `allowed_outbound_hosts`
/// for it and none of Vroom's components use it.
pub struct DenyOutboundHttp;

impl WasiHttpHooks for DenyOutboundHttp {
    fn send_request(
        &mut self,
        _request: http::Request<WasiBody>,
        _options: Option<wasmtime_wasi_http::RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<WasiBody>,
                        Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                    ),
                    wasmtime_wasi_http::Error,
                >,
            > + Send,
    > {
        Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
    }
}

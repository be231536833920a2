//! A loaded application: every component compiled once and pre-instantiated,
//! and a fresh instance per request.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use wasmtime::component::{Component, Linker};
use wasmtime::{
    Cache, CacheConfig, Config, Enabled, Engine, InstanceAllocationStrategy,
    PoolingAllocationConfig, Store, Trap,
};
use wasmtime_wasi_http::p3::Request as WasiRequest;
use wasmtime_wasi_http::p3::bindings::{Service, ServicePre};

use crate::manifest::Manifest;
use crate::outbound::AllowedHosts;
use crate::routing::{Route, Router};
use crate::spin::{self, RedisPool};
use crate::state::{ComponentConfig, MAX_MEMORY_BYTES, RequestState};
use crate::variables::AppVariables;

/// How often the engine's epoch advances; the unit of CPU deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Core instances, memories and tables the pool holds per component
/// instance: a Rust `wasm32-wasip2` component is one core module plus the
/// small shims `wit-component` adds (a handful of core instances, one
/// memory, a few tables).
const POOL_CORE_INSTANCES_PER_COMPONENT: u32 = 16;
const POOL_MEMORIES_PER_COMPONENT: u32 = 2;
const POOL_TABLES_PER_COMPONENT: u32 = 8;
/// Async (fiber) stacks per request: a component-model-async call may run
/// guest tasks on more than one.
const POOL_STACKS_PER_COMPONENT: u32 = 4;
/// Linear memory kept resident in a pool slot between instances and reset
/// by `memset` of the pages the last instance touched (found with Linux's
/// `PAGEMAP_SCAN` where the kernel has it) instead of `madvise`: the next
/// instance takes no page faults there. A request to the rooms component
/// touches well under this.
const POOL_MEMORY_KEEP_RESIDENT: usize = 4 << 20;

/// A component ready to serve requests.
struct LoadedComponent {
    config: Arc<ComponentConfig>,
    pre: ServicePre<RequestState>,
}

/// Everything `spin.toml` describes, compiled and ready.
pub struct App {
    engine: Engine,
    router: Router,
    components: Vec<LoadedComponent>,
    redis: Arc<RedisPool>,
}

/// Why a request produced no response from its component.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// The request outlived its deadline (wall clock or CPU).
    #[error("deadline exceeded")]
    Deadline,
    /// The guest trapped, returned an error or broke the protocol.
    #[error("component failed")]
    Guest(#[source] wasmtime::Error),
}

impl App {
    /// Loads the manifest at `manifest_path`, resolving variables from `env`,
    /// and compiles every component (using the on-disk cache in `cache_dir`).
    /// The instance pool has room for `max_instances` requests at once (the
    /// server's in-flight cap).
    pub fn load(
        manifest_path: &Path,
        cache_dir: Option<&Path>,
        max_instances: usize,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self> {
        let manifest = Manifest::load(manifest_path)?;
        let app_dir = manifest_path.parent().unwrap_or(Path::new("."));
        let variables = AppVariables::resolve(&manifest.variables, env)?;
        let engine = Engine::new(&engine_config(cache_dir, max_instances)?)?;
        let linker = linker(&engine)?;

        let mut components = Vec::new();
        let mut ids = Vec::new();
        for (id, decl) in &manifest.component {
            let config = ComponentConfig {
                id: id.clone(),
                variables: decl
                    .variables
                    .iter()
                    .map(|(name, template)| Ok((name.clone(), variables.render(template)?)))
                    .collect::<Result<_>>()
                    .with_context(|| format!("component `{id}` variables"))?,
                allowed_hosts: AllowedHosts::parse(
                    &decl
                        .allowed_outbound_hosts
                        .iter()
                        .map(|entry| variables.render(entry))
                        .collect::<Result<Vec<_>>>()?,
                )
                .with_context(|| format!("component `{id}`"))?,
                files: decl
                    .files
                    .iter()
                    .map(|mount| mount.resolve(app_dir))
                    .collect::<Result<_>>()
                    .with_context(|| format!("component `{id}` files"))?,
                environment: decl.environment.clone().into_iter().collect(),
            };
            let source = app_dir.join(&decl.source);
            let started = Instant::now();
            let component = Component::from_file(&engine, &source)
                .map_err(anyhow::Error::from)
                .with_context(|| {
                    format!(
                        "component `{id}`: cannot load {} (build it first)",
                        source.display()
                    )
                })?;
            let pre = ServicePre::new(linker.instantiate_pre(&component)?)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("component `{id}` is not an HTTP component"))?;
            tracing::info!(component = %id, elapsed_ms = started.elapsed().as_millis() as u64, "component ready");
            ids.push(id.clone());
            components.push(LoadedComponent {
                config: Arc::new(config),
                pre,
            });
        }

        tracing::info!(app = %manifest.application.name, "application loaded");
        let routes = manifest
            .trigger
            .http
            .iter()
            .map(|trigger| {
                let index = ids
                    .iter()
                    .position(|id| *id == trigger.component)
                    .context("route names an unknown component")?;
                Route::parse(&trigger.route, index)
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            engine,
            router: Router::new(routes)?,
            components,
            redis: Arc::new(RedisPool::default()),
        })
    }

    /// The routing table.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// The engine (its epoch must be advanced every [`EPOCH_TICK`]).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The id of component `index`.
    pub fn component_id(&self, index: usize) -> &str {
        &self.components[index].config.id
    }

    /// Runs `request` through a fresh instance of component `index`, giving it
    /// at most `deadline` of wall-clock and CPU time.
    pub async fn handle(
        &self,
        index: usize,
        request: http::Request<Full<Bytes>>,
        deadline: Duration,
    ) -> Result<http::Response<Full<Bytes>>, HandleError> {
        let component = &self.components[index];
        let run = self.run(component, request, deadline);
        match tokio::time::timeout(deadline, run).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(err)) if err.downcast_ref::<Trap>() == Some(&Trap::Interrupt) => {
                Err(HandleError::Deadline)
            }
            Ok(Err(err)) => Err(HandleError::Guest(err)),
            Err(_) => Err(HandleError::Deadline),
        }
    }

    async fn run(
        &self,
        component: &LoadedComponent,
        request: http::Request<Full<Bytes>>,
        deadline: Duration,
    ) -> wasmtime::Result<http::Response<Full<Bytes>>> {
        let state = RequestState::new(component.config.clone(), self.redis.clone())
            .map_err(wasmtime::Error::from_anyhow)?;
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limits);
        store.set_epoch_deadline(deadline.as_millis().div_ceil(EPOCH_TICK.as_millis()) as u64 + 1);
        let service: Service = component.pre.instantiate_async(&mut store).await?;
        let (request, request_io) =
            WasiRequest::from_http(&mut store.data_mut().http_hooks, request);
        store
            .run_concurrent(async |store| {
                let (response, ()) = tokio::try_join!(
                    async {
                        let response = match service.handle(store, request).await? {
                            Ok(response) => response,
                            Err(code) => {
                                return Err(wasmtime::format_err!(
                                    "component returned error {code:?}"
                                ));
                            }
                        };
                        let response =
                            store.with(|store| response.into_http(store, async { Ok(()) }))?;
                        let (parts, body) = response.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map_err(|err| wasmtime::format_err!("response body failed: {err}"))?
                            .to_bytes();
                        Ok::<_, wasmtime::Error>(http::Response::from_parts(parts, Full::new(body)))
                    },
                    async {
                        request_io
                            .await
                            .map_err(|err| wasmtime::format_err!("request body failed: {err}"))
                    }
                )?;
                Ok(response)
            })
            .await?
    }
}

/// The engine: component-model async, epoch deadlines, the on-disk
/// compilation cache, and the pooling instance allocator — a request's
/// instance takes a pre-reserved slot (memory, tables, async stack) instead
/// of mapping fresh memory, and its linear memory starts as a copy-on-write
/// view of the module's initial image. Each request still gets a fresh
/// instance.
fn engine_config(cache_dir: Option<&Path>, max_instances: usize) -> Result<Config> {
    let mut config = Config::new();
    config.wasm_component_model_async(true);
    config.epoch_interruption(true);
    config.memory_init_cow(true);
    let instances = u32::try_from(max_instances).context("too many instances")?;
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(instances)
        .total_stacks(instances.saturating_mul(POOL_STACKS_PER_COMPONENT))
        .total_core_instances(instances.saturating_mul(POOL_CORE_INSTANCES_PER_COMPONENT))
        .total_memories(instances.saturating_mul(POOL_MEMORIES_PER_COMPONENT))
        .total_tables(instances.saturating_mul(POOL_TABLES_PER_COMPONENT))
        .max_memory_size(MAX_MEMORY_BYTES)
        .linear_memory_keep_resident(POOL_MEMORY_KEEP_RESIDENT)
        .pagemap_scan(Enabled::Auto);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    if let Some(dir) = cache_dir {
        let mut cache = CacheConfig::new();
        cache.with_directory(dir);
        config.cache(Some(
            Cache::new(cache).map_err(|err| anyhow::anyhow!("compilation cache: {err}"))?,
        ));
    }
    Ok(config)
}

fn linker(engine: &Engine) -> Result<Linker<RequestState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi::p3::add_to_linker(&mut linker)?;
    wasmtime_wasi_http::p3::add_to_linker(&mut linker)?;
    spin::add_to_linker(&mut linker)?;
    Ok(linker)
}

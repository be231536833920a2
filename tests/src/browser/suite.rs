//! A browser test file's `main`: its tests as libtest trials, each once per
//! engine, sharing one runtime and one app.

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;

use libtest_mimic::{Arguments, Trial};
use tokio::runtime::Runtime;
use tokio::sync::OnceCell;

use super::app::App;
use super::engine::Engine;
use super::session::{Browser, open};

/// The tests of one file. Trials run on libtest's threads (`--test-threads`,
/// default: one per core); the app is started by the first test that asks
/// for it and stopped when the run ends.
pub struct Suite {
    shared: Arc<Shared>,
    trials: Vec<Trial>,
}

/// What every trial of a suite shares.
struct Shared {
    runtime: Runtime,
    app: OnceCell<App>,
}

/// What a test gets: its engine and the suite's app.
#[derive(Clone)]
pub struct Ctx {
    /// The engine this run of the test is for.
    pub engine: Engine,
    shared: Arc<Shared>,
}

impl Ctx {
    /// The suite's app (host, relay nodes, front), started on first use.
    pub async fn app(&self) -> &App {
        self.shared.app.get_or_init(App::start).await
    }

    /// `N` fresh browsers of this run's engine, opened at once.
    pub async fn browsers<const N: usize>(&self) -> [Browser; N] {
        open([self.engine; N]).await
    }
}

impl Suite {
    /// An empty suite with its runtime.
    pub fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        Self {
            shared: Arc::new(Shared {
                runtime,
                app: OnceCell::new(),
            }),
            trials: Vec::new(),
        }
    }

    /// Adds `test` once per engine, as `name::chromium`, `name::firefox`, `name::webkit`.
    pub fn each_engine<F, Fut>(self, name: &str, test: F) -> Self
    where
        F: Fn(Ctx) -> Fut + Clone + Send + 'static,
        Fut: Future<Output = ()>,
    {
        self.engines(name, &Engine::ALL, test)
    }

    /// Adds `test` once per engine in `engines`, as `name::<engine>`.
    pub fn engines<F, Fut>(mut self, name: &str, engines: &[Engine], test: F) -> Self
    where
        F: Fn(Ctx) -> Fut + Clone + Send + 'static,
        Fut: Future<Output = ()>,
    {
        for &engine in engines {
            let trial = self.trial(format!("{name}::{engine}"), engine, test.clone());
            self.trials.push(trial);
        }
        self
    }

    /// Adds `test` once, in Chromium, as `name` (for tests about the server
    /// side or Chromium-only diagnostics, where other engines add nothing).
    pub fn once<F, Fut>(mut self, name: &str, test: F) -> Self
    where
        F: FnOnce(Ctx) -> Fut + Send + 'static,
        Fut: Future<Output = ()>,
    {
        let trial = self.trial(name.to_owned(), Engine::Chromium, test);
        self.trials.push(trial);
        self
    }

    /// Adds `test` like [`Suite::once`], run only with `--ignored`
    /// (benchmarks that print numbers).
    pub fn ignored<F, Fut>(mut self, name: &str, test: F) -> Self
    where
        F: FnOnce(Ctx) -> Fut + Send + 'static,
        Fut: Future<Output = ()>,
    {
        let trial = self
            .trial(name.to_owned(), Engine::Chromium, test)
            .with_ignored_flag(true);
        self.trials.push(trial);
        self
    }

    fn trial<F, Fut>(&self, name: String, engine: Engine, test: F) -> Trial
    where
        F: FnOnce(Ctx) -> Fut + Send + 'static,
        Fut: Future<Output = ()>,
    {
        let ctx = Ctx {
            engine,
            shared: self.shared.clone(),
        };
        Trial::test(name, move || {
            let shared = ctx.shared.clone();
            shared.runtime.block_on(test(ctx));
            Ok(())
        })
    }

    /// Runs the trials the command line selects, then stops the app.
    pub fn run(self) -> ExitCode {
        let conclusion = libtest_mimic::run(&Arguments::from_args(), self.trials);
        if let Ok(shared) = Arc::try_unwrap(self.shared) {
            let Shared { runtime, app } = shared;
            let _in_runtime = runtime.enter();
            drop(app);
        }
        conclusion.exit_code()
    }
}

impl Default for Suite {
    fn default() -> Self {
        Self::new()
    }
}

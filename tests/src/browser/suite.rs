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

    /// Adds `test`, run once per engine as `name::chromium`,
    /// `name::firefox`, `name::webkit`.
    pub fn each_engine<F, Fut>(self, name: &str, test: F) -> Self
    where
        F: Fn(Ctx) -> Fut + Clone + Send + 'static,
        Fut: Future<Output = ()>,
    {
        self.add(name, &Engine::ALL, false, test)
    }

    /// Adds `test`, run once as `name` with [`Ctx::engine`] Chromium: for
    /// audits of the server side, Chromium-only diagnostics, and tests that
    /// open browsers of several engines themselves.
    pub fn once<F, Fut>(self, name: &str, test: F) -> Self
    where
        F: Fn(Ctx) -> Fut + Clone + Send + 'static,
        Fut: Future<Output = ()>,
    {
        self.add(name, &[], false, test)
    }

    /// Like [`Suite::each_engine`], but run only with `--ignored`
    /// (benchmarks that print numbers).
    pub fn ignored_each_engine<F, Fut>(self, name: &str, test: F) -> Self
    where
        F: Fn(Ctx) -> Fut + Clone + Send + 'static,
        Fut: Future<Output = ()>,
    {
        self.add(name, &Engine::ALL, true, test)
    }

    /// Like [`Suite::once`], but run only with `--ignored`.
    pub fn ignored<F, Fut>(self, name: &str, test: F) -> Self
    where
        F: Fn(Ctx) -> Fut + Clone + Send + 'static,
        Fut: Future<Output = ()>,
    {
        self.add(name, &[], true, test)
    }

    /// One trial per engine of `engines` (`name::engine`), or one trial
    /// `name` in Chromium if `engines` is empty.
    fn add<F, Fut>(mut self, name: &str, engines: &[Engine], ignored: bool, test: F) -> Self
    where
        F: Fn(Ctx) -> Fut + Clone + Send + 'static,
        Fut: Future<Output = ()>,
    {
        let runs: Vec<(String, Engine)> = if engines.is_empty() {
            vec![(name.to_owned(), Engine::Chromium)]
        } else {
            engines
                .iter()
                .map(|&engine| (format!("{name}::{engine}"), engine))
                .collect()
        };
        for (name, engine) in runs {
            let trial = self.trial(name, engine, test.clone());
            self.trials.push(trial.with_ignored_flag(ignored));
        }
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
        // Every trial has run and dropped its context: stop the app's
        // processes inside the runtime that spawned them.
        let Shared { runtime, app } =
            Arc::into_inner(self.shared).expect("no trial outlives the run");
        let in_runtime = runtime.enter();
        drop(app);
        drop(in_runtime);
        conclusion.exit_code()
    }
}

impl Default for Suite {
    fn default() -> Self {
        Self::new()
    }
}

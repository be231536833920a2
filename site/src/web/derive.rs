//! Named-room key derivation off the main thread. Argon2id takes seconds on
//! purpose; run on the page it would freeze it. The page starts a Web Worker
//! from the Blob URL the SRI-pinned loader made (`vroomArgon2Worker`, see
//! `xtask/src/site.rs` and `site/argon2-worker.js`) and hands it this very
//! wasm module (already verified against its integrity hash); the worker
//! instantiates it and calls [`derive_named_room_secret`].

use js_sys::{Array, Promise, Reflect, Uint8Array};
use vroom_e2e::RoomSecret;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{MessageEvent, Worker, WorkerOptions, WorkerType};

/// Why a named room's secret could not be derived.
pub enum DeriveError {
    /// The room name or passphrase cannot be used (too long, control characters).
    Input,
    /// The browser could not run the worker.
    Worker,
}

/// Worker side: the secret of the named room `name` with `passphrase`
/// (Argon2id, blocking), or `None` if they cannot be used. Runs inside the
/// worker, never on the page.
#[wasm_bindgen]
pub fn derive_named_room_secret(name: &str, passphrase: &str) -> Option<Vec<u8>> {
    RoomSecret::from_name_and_passphrase(name, passphrase)
        .ok()
        .map(|secret| secret.as_bytes().to_vec())
}

#[wasm_bindgen]
extern "C" {
    /// The worker script's Blob URL, made by the loader.
    #[wasm_bindgen(thread_local_v2, js_namespace = globalThis, js_name = vroomArgon2Worker)]
    static WORKER_URL: Option<String>;
}

/// Page side: derives the secret of the named room `name` with
/// `passphrase` in a fresh worker, which is stopped afterwards.
pub async fn named_room_secret(name: &str, passphrase: &str) -> Result<RoomSecret, DeriveError> {
    let url = WORKER_URL.with(Clone::clone).ok_or(DeriveError::Worker)?;
    let options = WorkerOptions::new();
    options.set_type(WorkerType::Module);
    let worker = Worker::new_with_options(&url, &options).map_err(|_| DeriveError::Worker)?;
    let answer = Promise::new(&mut |resolve, reject| {
        worker.set_onmessage(Some(&resolve));
        worker.set_onerror(Some(&reject));
    });
    let message = Array::of3(&wasm_bindgen::module(), &name.into(), &passphrase.into());
    let result = match worker.post_message(&message) {
        Ok(()) => JsFuture::from(answer).await,
        Err(e) => Err(e),
    };
    worker.terminate();
    let data = result
        .map_err(|_| DeriveError::Worker)?
        .unchecked_into::<MessageEvent>()
        .data();
    let field = |key: &str| Reflect::get(&data, &key.into()).unwrap_or(JsValue::UNDEFINED);
    if !field("error").is_undefined() {
        return Err(DeriveError::Worker);
    }
    let secret = field("secret");
    if secret.is_undefined() {
        return Err(DeriveError::Input);
    }
    let bytes: [u8; 32] = secret
        .dyn_into::<Uint8Array>()
        .map_err(|_| DeriveError::Worker)?
        .to_vec()
        .try_into()
        .map_err(|_| DeriveError::Worker)?;
    Ok(RoomSecret::from_bytes(bytes))
}

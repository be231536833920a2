// The Argon2id worker. `cargo xtask site` appends this to wasm-bindgen's
// module, and the SRI-pinned loader serves the result from a Blob URL
// (`vroomArgon2Worker`), so every byte the worker runs is pinned. The page
// (site/src/web/derive.rs) sends its own compiled wasm module, a room name
// and a passphrase; the answer is { secret } (32 bytes, or undefined if the
// name or passphrase cannot be used) or { error } if the worker failed.
self.onmessage = async ({ data: [module, name, passphrase] }) => {
  try {
    await __wbg_init({ module_or_path: module });
    self.postMessage({ secret: derive_named_room_secret(name, passphrase) });
  } catch (error) {
    self.postMessage({ error: String(error) });
  }
};

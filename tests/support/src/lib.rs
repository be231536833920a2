//! Test support shared by every test suite of the workspace (a
//! dev-dependency only): the tests' Redis address and fresh random bytes, so
//! no suite writes them again.

/// `redis://host:port` of the Redis the tests use (`REDIS_URL`, else the local one).
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// `N` fresh random bytes (unique room ids, keys, names).
pub fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    getrandom::fill(&mut bytes).expect("randomness");
    bytes
}

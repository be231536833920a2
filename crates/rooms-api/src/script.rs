//! The Lua scripts the API runs, each with the SHA-1 Redis names it by:
//! every call is `EVALSHA`, and only a Redis that does not hold the script
//! yet (after a restart, a failover or `SCRIPT FLUSH`) gets its text, once,
//! by `EVAL` (which also caches it).

use crate::backend::{Backend, BackendError, Value};
use vroom_shared::redis::scripts;

/// A Lua script and its SHA-1 (lowercase hex), what `EVALSHA` names it by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Script {
    /// The Lua text.
    pub text: &'static str,
    /// SHA-1 of [`Self::text`], lowercase hex (checked by this module's tests).
    pub sha1: &'static str,
}

/// [`scripts::CREATE_ROOM`].
pub const CREATE_ROOM: Script = Script {
    text: scripts::CREATE_ROOM,
    sha1: "0236342ef68c83b822a8b801db9b816e297df32f",
};
/// [`scripts::JOIN_ROOM`].
pub const JOIN_ROOM: Script = Script {
    text: scripts::JOIN_ROOM,
    sha1: "ba4ab224b206c231dd9f9e0884abd3087df785a9",
};
/// [`scripts::END_ROOM`].
pub const END_ROOM: Script = Script {
    text: scripts::END_ROOM,
    sha1: "42dbb3db1a7096b2729c63dd9c6faf46b6e94926",
};
/// [`scripts::LOCK_ROOM`].
pub const LOCK_ROOM: Script = Script {
    text: scripts::LOCK_ROOM,
    sha1: "807cbb1d66d76c025c102b7d2052693c0e96de10",
};
/// [`scripts::EXPEL_MEMBER`].
pub const EXPEL_MEMBER: Script = Script {
    text: scripts::EXPEL_MEMBER,
    sha1: "02033db04eeb94a30f8ee48ea7b4545f602ee582",
};
/// [`scripts::RATE_LIMIT`].
pub const RATE_LIMIT: Script = Script {
    text: scripts::RATE_LIMIT,
    sha1: "7a8d07480cd08587b244b9b6689c320d49cda65e",
};

/// Every script the API runs.
pub const ALL: [Script; 6] = [
    CREATE_ROOM,
    JOIN_ROOM,
    END_ROOM,
    LOCK_ROOM,
    EXPEL_MEMBER,
    RATE_LIMIT,
];

/// Runs `script` by `EVALSHA`; if Redis does not hold it
/// ([`BackendError::NoScript`]), by `EVAL`. Any other error is final: a
/// script is never sent twice for one call.
pub async fn run(
    backend: &impl Backend,
    script: &Script,
    keys: &[String],
    args: &[Vec<u8>],
) -> Result<Vec<Value>, BackendError> {
    match backend.evalsha(script.sha1, keys, args).await {
        Err(BackendError::NoScript) => backend.eval(script.text, keys, args).await,
        reply => reply,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sha1_is_that_of_its_text() {
        for script in ALL {
            let hex = sha1_smol::Sha1::from(script.text).digest().to_string();
            assert_eq!(
                script.sha1,
                hex,
                "the SHA-1 of the script starting {:?}",
                &script.text[..60]
            );
        }
    }
}

//! The rooms HTTP API, independent of the host it runs in.

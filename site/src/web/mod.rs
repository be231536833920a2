//! Browser-only code: the Leptos app, the rooms API client, the relay
//! connection and the room controller driving `vroom_e2e::Session`.

pub mod api;
pub mod app;
pub mod derive;
pub mod landing;
pub mod lang;
pub mod names;
pub mod notify;
pub mod room;
pub mod store;
pub mod util;
pub mod view;
pub mod words;

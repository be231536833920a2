//! The router: `/` is the landing page, `/r` the room (an invite link
//! `/r/<room-id>#<secret>` becomes `/r` before the app mounts).

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use super::landing::Landing;
use super::view::RoomView;
use super::words::t;

/// The root component.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=Landing />
                <Route path=path!("/r") view=RoomView />
                <Route path=path!("/r/:id") view=RoomView />
            </Routes>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <main class="page narrow" id="main">
            <h1>{t!("not-found-heading")}</h1>
            <p>{t!("not-found-text")}" "<a href="/">{t!("go-start")}</a></p>
        </main>
    }
}

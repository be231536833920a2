//! The router: `/` is the landing page, `/r` the room (an invite link
//! `/r/<room-id>#<secret>` becomes `/r` before the app mounts).

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use super::landing::Landing;
use super::view::RoomView;

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
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. " <a href="/">"Go to the start page"</a> "."</p>
        </main>
    }
}

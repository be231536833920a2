//! The router: `/` is the landing page, `/r/<room-id>` the room.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::use_params_map;
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
                <Route path=path!("/r/:id") view=RoomRoute />
            </Routes>
        </Router>
    }
}

#[component]
fn RoomRoute() -> impl IntoView {
    let params = use_params_map();
    let id = params.get_untracked().get("id").unwrap_or_default();
    view! { <RoomView room_id=id /> }
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

//! Pure helpers of the Vroom web app that need no browser, so they are
//! tested natively (`cargo test -p vroom-site`): the message catalogues
//! ([`catalogue`]), how a message's text is cut into what is shown
//! ([`text`]), how often a repeated warning is shown ([`tally`]), when a
//! message mentions someone ([`mention`]) and the timing of typing
//! indicators ([`typing`]). The app itself is the `vroom-site` binary
//! (`main.rs`).

pub mod catalogue;
pub mod mention;
pub mod tally;
pub mod text;
pub mod typing;

//! In-process integration tests: the real application on a temp SQLite file with a fake
//! clock, driven over HTTP like a browser would.

// Tests may panic: that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;

mod account;
mod admin_api;
mod audit;
mod auth;
mod bulk;
mod cli;
mod client_api;
mod client_mfa;
mod client_rules;
mod enrollment;
mod error_pages;
mod gateway_sync;
mod groups;
mod hardening;
mod health;
mod import;
mod invitations;
mod locations;
mod mail;
mod oidc;
mod settings;
mod setup;
mod smtp_server;
mod tokens;
mod user_page;
mod users;
mod wizard_two_factor;

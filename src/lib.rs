//! onramp onboards people onto a company WireGuard VPN: an admin adds a user, the user
//! follows an emailed link through a short wizard, and ends with a password, a VPN device
//! and the company's onboarding message.
//!
//! Layers, each depending only on those after it: `web` → `services` → (`db`, `domain`).
//! `views` renders HTML from plain data.

pub mod agent;
pub mod assets;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod error;
pub mod mail;
pub mod os;
pub mod poll_limits;
pub mod ratelimit;
pub mod services;
pub mod startup;
pub mod state;
pub mod views;
pub mod web;

pub use config::Config;
pub use startup::Application;

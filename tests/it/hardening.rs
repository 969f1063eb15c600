//! Regressions for what an adversarial test got through (issue 10): each test here failed on
//! the code before its fix. docs/security.md maps every item to its test.

use crate::helpers::{TestApp, ADMIN_PASSWORD};
use reqwest::StatusCode;
use std::time::Instant;

/// 200 parallel logins for one account from one address: the attempt is counted before the
/// hash, so at most 10 passwords are checked and the rest get 429 without hashing, the right
/// password included when it comes too late.
#[tokio::test]
async fn two_hundred_parallel_logins_check_at_most_ten_passwords() {
    let app = TestApp::spawn().await;
    let form = app.get("/admin/login").await;
    let csrf = form.csrf_field().expect("login form");
    let started = Instant::now();
    let mut handles = Vec::new();
    for i in 0..200 {
        let client = app.client.clone();
        let url = app.url("/admin/login");
        let csrf = csrf.clone();
        // The right password comes last, after 199 guesses.
        let password = if i == 199 {
            ADMIN_PASSWORD.to_owned()
        } else {
            format!("wrong guess number {i}")
        };
        handles.push(tokio::spawn(async move {
            client
                .post(url)
                .form(&[
                    ("csrf_token", csrf.as_str()),
                    ("username", "admin"),
                    ("password", password.as_str()),
                ])
                .send()
                .await
                .expect("POST")
                .status()
        }));
    }
    let (mut verified, mut refused) = (0, 0);
    for h in handles {
        match h.await.expect("join") {
            StatusCode::UNAUTHORIZED | StatusCode::SEE_OTHER => verified += 1,
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    eprintln!(
        "200 parallel logins: {verified} verified, {refused} refused in {} ms",
        started.elapsed().as_millis()
    );
    assert!(verified <= 10, "{verified} passwords were checked");
    assert_eq!(verified + refused, 200);
    let actions = app.audit_actions();
    let hashed = actions
        .iter()
        .filter(|a| a.starts_with("login."))
        .count();
    assert_eq!(hashed, verified, "every checked password is audited");
}

/// Behind a trusted proxy, the addresses of one IPv6 /64 share one limit.
#[tokio::test]
async fn ipv6_clients_are_limited_per_64() {
    let app = TestApp::spawn_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("net")];
    })
    .await;
    let form = app.get("/admin/login").await;
    let csrf = form.csrf_field().expect("login form");
    let login_from = |ip: String, user: String| {
        let client = app.client.clone();
        let url = app.url("/admin/login");
        let csrf = csrf.clone();
        async move {
            client
                .post(url)
                .header("X-Forwarded-For", ip)
                .form(&[
                    ("csrf_token", csrf.as_str()),
                    ("username", user.as_str()),
                    ("password", "wrong password here"),
                ])
                .send()
                .await
                .expect("POST")
                .status()
        }
    };
    for i in 1..=10 {
        let status = login_from(format!("2001:db8:1:2::{i:x}"), format!("user{i}")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let same_64 = login_from("2001:db8:1:2:ffff::1".into(), "other".into()).await;
    assert_eq!(same_64, StatusCode::TOO_MANY_REQUESTS, "same /64");
    let next_64 = login_from("2001:db8:1:3::1".into(), "other".into()).await;
    assert_eq!(next_64, StatusCode::UNAUTHORIZED, "another /64 has its own limit");
}

use crate::helpers::TestApp;
use reqwest::StatusCode;

async fn logged_in() -> TestApp {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    app
}

fn new_user_form<'a>(username: &'a str, email: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("username", username),
        ("first_name", "Jan"),
        ("last_name", "Nowak"),
        ("email", email),
        ("phone", "+48 123 456 789"),
        ("use_enrollment", "on"),
    ]
}

#[tokio::test]
async fn adding_a_user_with_enrollment_lists_them_as_not_enrolled() {
    let app = logged_in().await;
    let form = app.get("/admin/users/new").await;
    for label in [
        "Username",
        "First name",
        "Last name",
        "Email",
        "Phone",
        "Use enrollment process",
        "Password",
    ] {
        assert!(form.body.contains(label), "label {label}");
    }
    assert!(
        form.body
            .contains(r#"name="use_enrollment" value="on" checked"#),
        "enrollment is the default"
    );
    let res = app
        .post("/admin/users", &new_user_form("jnowak", "jan@example.com"))
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let id = app.user_id("jnowak").expect("stored");
    assert_eq!(
        res.location(),
        format!("/admin/users/{id}/enrollment"),
        "on to the token dialog"
    );
    let dialog = app.get(res.location()).await;
    assert!(dialog
        .body
        .contains("Added jnowak. Now choose how they get their enrollment token."));
    assert!(
        dialog.body.contains(r#"value="jan@example.com""#),
        "the address is pre-filled"
    );
    let list = app.get("/admin/users").await;
    assert!(list.body.contains("jan@example.com"));
    assert!(list.body.contains("Not enrolled"));
    assert!(list.body.contains(r#"aria-label="Actions for jnowak""#));
    let user = app.user("jnowak").expect("stored");
    assert!(user.password_hash.is_none());
    assert_eq!(user.phone.as_deref(), Some("+48 123 456 789"));
    assert!(app.audit_actions().contains(&"user.created".to_owned()));
    // The notice is shown once.
    assert!(!app
        .get(&format!("/admin/users/{id}/enrollment"))
        .await
        .body
        .contains("Added jnowak"));
}

#[tokio::test]
async fn adding_a_user_with_a_password_makes_them_active() {
    let app = logged_in().await;
    let mut form = new_user_form("jnowak", "jan@example.com");
    form.retain(|(k, _)| *k != "use_enrollment");
    let mut weak = form.clone();
    weak.extend([
        ("password", "password1234"),
        ("password_repeat", "password1234"),
    ]);
    let res = app.post("/admin/users", &weak).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("too easy to guess"), "{}", res.body);
    let mut mismatch = form.clone();
    mismatch.extend([
        ("password", "plum orbit velvet river"),
        ("password_repeat", "plum orbit velvet rivers"),
    ]);
    let res = app.post("/admin/users", &mismatch).await;
    assert!(res.body.contains("The two passwords do not match."));
    let mut missing = form.clone();
    missing.extend([("password", ""), ("password_repeat", "")]);
    let res = app.post("/admin/users", &missing).await;
    assert!(res.body.contains("Enter a password"));
    assert_eq!(app.user_count(), 1, "nothing written");
    let mut good = form.clone();
    good.extend([
        ("password", "plum orbit velvet river"),
        ("password_repeat", "plum orbit velvet river"),
    ]);
    let res = app.post("/admin/users", &good).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let user = app.user("jnowak").expect("stored");
    assert!(user
        .password_hash
        .as_deref()
        .is_some_and(|h| h.starts_with("$argon2id$")));
    assert!(app.get("/admin/users").await.body.contains("badge-active"));
    assert!(!app.dump_database().contains("plum orbit velvet river"));
}

#[tokio::test]
async fn every_bad_field_gets_its_own_message_and_nothing_is_written() {
    let app = logged_in().await;
    let res = app
        .post(
            "/admin/users",
            &[
                ("username", "Jan Nowak"),
                ("first_name", ""),
                ("last_name", "Nowak\r\nBcc: x@evil.example"),
                ("email", "not-an-email"),
                ("phone", "call me"),
                ("use_enrollment", "on"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    for message in [
        "A username is 3–32 characters",
        "Enter the first name.",
        "The last name cannot contain line breaks",
        "is not a valid email address",
        "Enter a phone number",
    ] {
        assert!(res.body.contains(message), "missing {message:?}");
    }
    assert!(res.body.contains(r#"aria-invalid="true""#));
    assert!(res
        .body
        .contains(r#"aria-describedby="username-hint username-error""#));
    assert!(res.body.contains(r#"value="Jan Nowak""#), "input is kept");
    assert_eq!(app.user_count(), 1);
}

#[tokio::test]
async fn duplicates_are_named() {
    let app = logged_in().await;
    app.add_user("jnowak", "Jan", "Nowak").await;
    let res = app
        .post(
            "/admin/users",
            &new_user_form("jnowak", "JNOWAK@example.com"),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("The username jnowak is already taken."));
    assert!(res
        .body
        .contains("The email JNOWAK@example.com is already used by jnowak."));
    assert_eq!(app.user_count(), 2);
}

#[tokio::test]
async fn unknown_fields_and_oversized_forms_are_refused() {
    let app = logged_in().await;
    let mut form = new_user_form("jnowak", "jan@example.com");
    form.push(("is_admin", "1"));
    let res = app.post("/admin/users", &form).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("fields this page does not know"));
    let big = "x".repeat(20_000);
    let mut form = new_user_form("jnowak", "jan@example.com");
    form[1] = ("first_name", big.as_str());
    let res = app.post("/admin/users", &form).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(res.body.contains("The form is too large"));
    assert!(app.user("jnowak").is_none());
}

#[tokio::test]
async fn editing_changes_the_profile_and_keeps_emails_unique() {
    let app = logged_in().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    app.add_user("akowalska", "Anna", "Kowalska").await;
    let path = format!("/admin/users/{id}/edit");
    let form = app.get(&path).await;
    assert!(form.body.contains(r#"value="jnowak@example.com""#));
    let res = app
        .post(
            &path,
            &[
                ("first_name", "Janek"),
                ("last_name", "Nowak"),
                ("email", "akowalska@example.com"),
                ("phone", ""),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("already used by akowalska"));
    let res = app
        .post(
            &path,
            &[
                ("first_name", "Janek"),
                ("last_name", "Nowak"),
                ("email", "janek@example.com"),
                ("phone", ""),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let user = app.user("jnowak").expect("user");
    assert_eq!(
        (user.first_name.as_str(), user.email.as_str()),
        ("Janek", "janek@example.com")
    );
    assert!(app
        .get("/admin/users")
        .await
        .body
        .contains("Saved changes to jnowak."));
    assert!(app.audit_actions().contains(&"user.updated".to_owned()));
    assert_eq!(
        app.get("/admin/users/999/edit").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn disable_with_htmx_swaps_the_row_and_enable_brings_it_back() {
    let app = logged_in().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let res = app
        .hx_post(&format!("/admin/users/{id}/disable"), &[])
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.body.starts_with("<tr"), "a row fragment: {}", res.body);
    assert!(res.body.contains("Disabled"));
    assert_eq!(res.header("vary"), "HX-Request");
    let menu = app.hx_get(&format!("/admin/users/{id}/actions")).await;
    assert!(menu.body.contains(">Enable<"));
    let res = app.post(&format!("/admin/users/{id}/enable"), &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(app
        .get("/admin/users")
        .await
        .body
        .contains("Enabled jnowak."));
    assert!(app.user("jnowak").expect("user").is_active);
    let actions = app.audit_actions();
    assert!(
        actions.contains(&"user.disabled".to_owned())
            && actions.contains(&"user.enabled".to_owned())
    );
}

#[tokio::test]
async fn admins_cannot_disable_or_delete_themselves() {
    let app = logged_in().await;
    let me = app.user_id("admin").expect("admin");
    let res = app.post(&format!("/admin/users/{me}/disable"), &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(app
        .get("/admin/users")
        .await
        .body
        .contains("You cannot disable your own account."));
    let res = app
        .hx_post(&format!("/admin/users/{me}/disable"), &[])
        .await;
    assert_eq!(res.header("hx-retarget"), "#flash-area");
    assert!(res.body.contains("You cannot disable your own account."));
    let res = app.post(&format!("/admin/users/{me}/delete"), &[]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(res.body.contains("You cannot delete your own account."));
    assert!(app.user("admin").expect("admin").is_active);
    let menu = app.hx_get(&format!("/admin/users/{me}/actions")).await;
    assert!(menu.body.contains(r#"aria-disabled="true""#));
    // The reason is read with the dimmed item.
    assert!(
        menu.body.contains(&format!(
            r#"aria-describedby="reason-{me}-delete">Delete</span><span class="menu-reason" id="reason-{me}-delete">You cannot delete your own account.</span>"#
        )),
        "{}",
        menu.body
    );
}

#[tokio::test]
async fn delete_asks_first_then_removes_the_user() {
    let app = logged_in().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let confirm = app.get(&format!("/admin/users/{id}/delete")).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(confirm.body.contains("Delete jnowak?"));
    assert!(confirm.body.contains("This cannot be undone."));
    assert!(app.user("jnowak").is_some(), "GET changes nothing");
    let res = app.post(&format!("/admin/users/{id}/delete"), &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(app.user("jnowak").is_none());
    assert!(app
        .get("/admin/users")
        .await
        .body
        .contains("Deleted jnowak."));
    assert!(app.audit_actions().contains(&"user.deleted".to_owned()));
    assert_eq!(
        app.post(&format!("/admin/users/{id}/delete"), &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn search_is_a_fragment_for_htmx_and_a_page_otherwise() {
    let app = logged_in().await;
    app.add_user("jnowak", "Jan", "Nowak").await;
    app.add_user("akowalska", "Anna", "Kowalska").await;
    let fragment = app.hx_get("/admin/users?q=kowal").await;
    assert_eq!(fragment.status, StatusCode::OK);
    assert!(fragment.body.starts_with(r#"<div id="users-results">"#));
    assert!(!fragment.body.contains("<html"));
    assert!(fragment.body.contains("akowalska") && !fragment.body.contains("jnowak"));
    assert!(fragment.body.contains("Showing 1–1 of 1 users"));
    let page = app.get("/admin/users?q=kowal").await;
    assert!(page.body.starts_with("<!DOCTYPE html>"));
    assert!(page.body.contains(r#"value="kowal""#));
    // History restores get the full page.
    let res = app
        .client
        .get(app.url("/admin/users?q=kowal"))
        .header("HX-Request", "true")
        .header("HX-History-Restore-Request", "true")
        .send()
        .await
        .expect("get");
    assert!(res
        .text()
        .await
        .expect("body")
        .starts_with("<!DOCTYPE html>"));
    let none = app.hx_get("/admin/users?q=zzz").await;
    assert!(none.body.contains("No users match &quot;zzz&quot;."));
    assert_eq!(
        app.get("/admin/users?page=abc").await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/admin/users?sort=evil").await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn pagination_walks_the_list() {
    let app = logged_in().await;
    {
        let conn = app.state.db.conn().expect("conn");
        for i in 0..60 {
            let username = format!("user{i:03}");
            onramp::db::users::insert(
                &conn,
                &onramp::db::users::NewUser {
                    username: &username,
                    first_name: "Test",
                    last_name: "User",
                    email: &format!("{username}@example.com"),
                    phone: None,
                    is_admin: false,
                    password_hash: None,
                    created_at: 0,
                },
            )
            .expect("insert");
        }
    }
    let first = app.get("/admin/users").await;
    assert!(first.body.contains("Showing 1–25 of 61 users"));
    assert!(first.body.contains(r#"href="/admin/users?page=2""#));
    assert!(!first.body.contains("Previous page"));
    let third = app.hx_get("/admin/users?page=3").await;
    assert!(third.body.contains("Showing 51–61 of 61 users"));
    assert!(third.body.contains("Previous page") && !third.body.contains("Next page"));
    assert!(third.body.contains("user059"));
}

#[tokio::test]
async fn the_action_menu_is_a_fragment_for_htmx_and_a_page_without_javascript() {
    let app = logged_in().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let fragment = app.hx_get(&format!("/admin/users/{id}/actions")).await;
    assert!(fragment
        .body
        .starts_with(r#"<ul class="menu-list" role="menu" aria-label="Actions for jnowak">"#));
    for item in [
        ">Open<",
        ">Edit<",
        ">Disable<",
        ">Start enrollment<",
        ">Make admin<",
        ">Delete<",
    ] {
        assert!(fragment.body.contains(item), "{item}");
    }
    assert_eq!(fragment.body.matches(r#"role="menuitem""#).count(), 6);
    // No password yet, so nothing to reset.
    assert!(!fragment.body.contains("Send password reset"));
    let page = app.get(&format!("/admin/users/{id}/actions")).await;
    assert!(page.body.contains("<h1>Actions for jnowak</h1>"));
    assert!(page.body.contains("menu-list static"));
    assert_eq!(
        app.hx_get("/admin/users/999/actions").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn user_text_is_escaped_everywhere() {
    let app = logged_in().await;
    let res = app
        .post(
            "/admin/users",
            &[
                ("username", "mallory"),
                ("first_name", "<script>alert(1)</script>"),
                ("last_name", "\"><img src=x>"),
                ("email", "mallory@example.com"),
                ("phone", ""),
                ("use_enrollment", "on"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let list = app.get("/admin/users").await;
    assert!(!list.body.contains("<script>alert(1)"));
    assert!(list.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!list.body.contains("<img src=x>"));
    let id = app.user_id("mallory").expect("stored");
    let page = app.get(&format!("/admin/users/{id}")).await;
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.body.contains("<script>alert(1)") && !page.body.contains("<img src=x>"));
}

#[tokio::test]
async fn the_action_menu_offers_the_sign_in_actions() {
    let app = logged_in().await;
    let id = app.add_enrolled_user("jnowak", "Jan", "Nowak").await;
    let base = format!("/admin/users/{id}");
    let menu = app.hx_get(&format!("{base}/actions")).await;
    for item in [
        format!(r#"href="{base}/password-reset">Send password reset<"#),
        format!(r#"href="{base}/two-factor/reset">Reset two-factor<"#),
        format!(r#"action="{base}/admin""#),
        r#"name="admin" value="true""#.to_string(),
        ">Make admin<".to_string(),
    ] {
        assert!(menu.body.contains(&item), "{item}\n{}", menu.body);
    }
    let made = app
        .post(&format!("{base}/admin"), &[("admin", "true")])
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER);
    let menu = app.hx_get(&format!("{base}/actions")).await;
    assert!(menu.body.contains(r#"name="admin" value="false""#));
    assert!(menu.body.contains(">Remove admin rights<"));
    // The admin's own row explains why they cannot take their own rights.
    let me = app.user_id("admin").expect("admin");
    let own = app.hx_get(&format!("/admin/users/{me}/actions")).await;
    assert!(own
        .body
        .contains("You cannot take your own admin rights; another admin can."));
}

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
    assert!(fragment.body.contains(">1 user<"));
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

fn insert_users(app: &TestApp, names: impl IntoIterator<Item = (String, &'static str)>) {
    let mut conn = app.state.db.conn().expect("conn");
    let tx = conn.transaction().expect("begin");
    for (username, last) in names {
        onramp::db::users::insert(
            &tx,
            &onramp::db::users::NewUser {
                username: &username,
                first_name: "Test",
                last_name: last,
                email: &format!("{username}@example.com"),
                phone: None,
                is_admin: false,
                password_hash: None,
                created_at: 0,
            },
        )
        .expect("insert");
    }
    tx.commit().expect("commit");
}

/// The usernames in a users-list page, top to bottom.
fn listed(body: &str) -> Vec<String> {
    body.split("data-username=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').expect("end")].to_owned())
        .collect()
}

/// The target of the link with `rel`, unescaped.
fn link(body: &str, rel: &str) -> Option<String> {
    let at = body.find(&format!("rel=\"{rel}\""))?;
    let start = body[..at].rfind("href=\"")? + 6;
    let end = start + body[start..].find('"')?;
    Some(body[start..end].replace("&amp;", "&"))
}

#[tokio::test]
async fn pagination_walks_the_list_by_username_with_totals() {
    let app = logged_in().await;
    // Everyone shares a name: only the username orders them.
    insert_users(&app, (0..60).map(|i| (format!("user{i:03}"), "User")));
    let first = app.get("/admin/users").await;
    assert!(
        first
            .body
            .contains("Showing 1–25 of 61 users · Page 1 of 3"),
        "{}",
        first.body
    );
    assert!(!first.body.contains("Previous page"));
    assert_eq!(
        link(&first.body, "next").as_deref(),
        Some("/admin/users?after=user023&page=2")
    );
    let mut seen = listed(&first.body);
    let mut page = first;
    let mut pages = vec![];
    while let Some(next) = link(&page.body, "next") {
        page = app.hx_get(&next).await;
        pages.push(page.body.clone());
        seen.extend(listed(&page.body));
    }
    assert!(pages[1].contains("Showing 51–61 of 61 users · Page 3 of 3"));
    assert!(pages[1].contains("Previous page") && !pages[1].contains("Next page"));
    let mut expected: Vec<String> = (0..60).map(|i| format!("user{i:03}")).collect();
    expected.insert(0, "admin".into());
    assert_eq!(seen, expected, "no row skipped or shown twice");
    // Back from page 3 shows page 2 again, row for row.
    let back = app
        .hx_get(&link(&pages[1], "prev").expect("previous"))
        .await;
    assert_eq!(listed(&back.body), listed(&pages[0]));
    assert!(back
        .body
        .contains("Showing 26–50 of 61 users · Page 2 of 3"));
    // A deep link stays valid after rows before it go away.
    let conn = app.state.db.conn().expect("conn");
    conn.execute(
        "DELETE FROM user WHERE username < 'user010' AND username != 'admin'",
        [],
    )
    .expect("delete");
    let deep = app.hx_get("/admin/users?after=user040&page=3").await;
    assert_eq!(
        listed(&deep.body).first().map(String::as_str),
        Some("user041")
    );
    assert!(deep.body.contains("of 51 users"));
}

#[tokio::test]
async fn search_finds_text_anywhere_across_unicode_case() {
    let app = logged_in().await;
    app.add_user("lzielinski", "Łukasz", "Zieliński").await;
    app.add_user("pzak", "Paweł", "Żak").await;
    app.add_user("ewelina", "Éwelina", "Nowak").await;
    for (q, expected) in [
        ("łuk", vec!["lzielinski"]),
        ("ŁUKASZ", vec!["lzielinski"]),
        ("ukasz", vec!["lzielinski"]),
        ("ŻAK", vec!["pzak"]),
        ("żak", vec!["pzak"]),
        ("éWEL", vec!["ewelina"]),
        ("owak", vec!["ewelina"]),
        ("example.com", vec!["ewelina", "lzielinski", "pzak"]),
        ("@example", vec!["ewelina", "lzielinski", "pzak"]),
        ("paweł żak", vec!["pzak"]),
        // Shorter than three characters: still anywhere, still folded.
        ("Ż", vec!["pzak"]),
        ("Ł", vec!["lzielinski", "pzak"]),
        ("ÉW", vec!["ewelina"]),
        ("ń", vec!["lzielinski"]),
        // Quotes, wildcards and FTS syntax are text, not operators.
        ("\"", vec![]),
        ("łuk OR żak", vec![]),
        ("%", vec![]),
        ("*", vec![]),
    ] {
        let page = app
            .hx_get(&format!(
                "/admin/users?{}",
                serde_urlencoded::to_string([("q", q)]).expect("encode")
            ))
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(listed(&page.body), expected, "{q}");
    }
    let three = app.hx_get("/admin/users?q=example.com").await;
    assert!(
        three.body.contains("Showing 1–3 of 3 users"),
        "{}",
        three.body
    );
}

#[tokio::test]
async fn common_searches_page_on_and_say_more_than() {
    let app = logged_in().await;
    insert_users(&app, (0..1030).map(|i| (format!("u{i:04}"), "Kowalski")));
    let first = app.hx_get("/admin/users?q=kowal").await;
    assert!(
        first.body.contains(
            "Showing 1–25 of more than 100 users · Page 1; type more to narrow the search"
        ),
        "{}",
        first.body
    );
    let next = link(&first.body, "next").expect("next");
    assert_eq!(next, "/admin/users?q=kowal&after=u0024&page=2");
    let second = app.hx_get(&next).await;
    assert_eq!(
        listed(&second.body).first().map(String::as_str),
        Some("u0025")
    );
    let last = app.hx_get("/admin/users?q=kowal&after=u1024&page=42").await;
    assert_eq!(listed(&last.body).len(), 5);
    assert!(link(&last.body, "next").is_none());
    let narrow = app.hx_get("/admin/users?q=kowal+u10").await;
    assert!(narrow
        .body
        .contains("Showing 1–25 of 30 users · Page 1 of 2"));
}

#[tokio::test]
async fn the_status_filter_narrows_the_list_and_explains_expired_invitations() {
    let app = logged_in().await;
    let invited = app.add_user("invited", "In", "Vited").await;
    let expired = app.add_user("expired", "Ex", "Pired").await;
    app.add_user("waiting", "Wai", "Ting").await;
    let disabled = app.add_user("disabled", "Dis", "Abled").await;
    crate::helpers::hand_over_token(&app, expired, "enrollment").await;
    crate::helpers::hand_over_token(&app, invited, "enrollment").await;
    // The first invitation ran out yesterday, unused.
    app.state
        .db
        .conn()
        .expect("conn")
        .execute(
            "UPDATE token SET expires_at = expires_at - 2 * 86400 WHERE user_id = ?1",
            [expired],
        )
        .expect("expire");
    let res = app
        .post(&format!("/admin/users/{disabled}/disable"), &[])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    for (status, expected) in [
        ("active", vec!["admin"]),
        ("invited", vec!["invited"]),
        ("invitation-expired", vec!["expired"]),
        ("not-enrolled", vec!["waiting"]),
        ("disabled", vec!["disabled"]),
        (
            "",
            vec!["admin", "disabled", "expired", "invited", "waiting"],
        ),
    ] {
        let page = app.hx_get(&format!("/admin/users?status={status}")).await;
        assert_eq!(listed(&page.body), expected, "{status}");
    }
    let both = app
        .hx_get("/admin/users?q=ex&status=invitation-expired")
        .await;
    assert_eq!(listed(&both.body), ["expired"]);
    assert!(both.body.contains(">1 user<"));
    let none = app.hx_get("/admin/users?q=zzz&status=disabled").await;
    assert!(none
        .body
        .contains("No users with the status Disabled match &quot;zzz&quot;."));
    // The list says the invitation ran out, instead of a plain "Not enrolled".
    let all = app.get("/admin/users").await;
    assert!(
        all.body.contains("Invitation expired 2026-11-23 09:00"),
        "{}",
        all.body
    );
    // The full page keeps the choice in the select; an unknown status is refused.
    let page = app.get("/admin/users?status=invited").await;
    assert!(page
        .body
        .contains(r#"<option value="invited" selected>Invited</option>"#));
    let bad = app.get("/admin/users?status=pending").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("Choose a status from the list"));
}

#[tokio::test]
async fn actions_from_a_filtered_list_return_to_it() {
    let app = logged_in().await;
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    app.add_user("akowalska", "Anna", "Kowalska").await;
    let list = "q=nowak&status=not-enrolled";
    let results = app.hx_get(&format!("/admin/users?{list}")).await;
    let menu_url = format!("/admin/users/{id}/actions?{}", list.replace('&', "&amp;"));
    assert!(results.body.contains(&menu_url), "{}", results.body);
    let menu = app
        .hx_get(&format!("/admin/users/{id}/actions?{list}"))
        .await;
    assert!(menu.body.contains(&format!(
        "/admin/users/{id}/delete?{}",
        list.replace('&', "&amp;")
    )));
    assert!(menu
        .body
        .contains(r#"<input type="hidden" name="q" value="nowak">"#));
    let confirm = app.get(&format!("/admin/users/{id}/delete?{list}")).await;
    assert!(confirm
        .body
        .contains(r#"<input type="hidden" name="status" value="not-enrolled">"#));
    // Without JavaScript, disabling returns to the same filtered list.
    let res = app
        .post(
            &format!("/admin/users/{id}/disable"),
            &[("q", "nowak"), ("status", "not-enrolled")],
        )
        .await;
    assert_eq!(res.location(), format!("/admin/users?{list}"));
    let res = app
        .post(
            &format!("/admin/users/{id}/delete"),
            &[
                ("q", "nowak"),
                ("status", "disabled"),
                ("after", "a"),
                ("page", "2"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(
        res.location(),
        "/admin/users?q=nowak&status=disabled&after=a&page=2"
    );
    assert!(app.user("jnowak").is_none());
    let back = app.get(res.location()).await;
    assert!(back.body.contains("Deleted jnowak."));
    assert!(back.body.contains(r#"value="nowak""#));
}

#[tokio::test]
async fn invisible_formatting_characters_are_refused_in_names_and_emails() {
    let app = logged_in().await;
    for (field, value, code) in [
        ("first_name", "\u{202E}evil", "U+202E"),
        ("last_name", "No\u{200D}wak", "U+200D"),
        ("email", "jan\u{200B}@example.com", "U+200B"),
    ] {
        let mut form = new_user_form("jnowak", "jan@example.com");
        for pair in form.iter_mut() {
            if pair.0 == field {
                pair.1 = value;
            }
        }
        let res = app.post("/admin/users", &form).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert!(
            res.body
                .contains(&format!("invisible formatting character ({code})")),
            "{field}: {}",
            res.body
        );
        assert!(app.user("jnowak").is_none());
    }
    let id = app.add_user("jnowak", "Jan", "Nowak").await;
    let res = app
        .post(
            &format!("/admin/users/{id}/edit"),
            &[
                ("first_name", "Jan\u{FEFF}"),
                ("last_name", "Nowak"),
                ("email", "jnowak@example.com"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("U+FEFF"));
    assert_eq!(app.user("jnowak").expect("user").first_name, "Jan");
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

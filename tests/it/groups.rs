//! Groups and "Who can connect": the admin screens, and that every place handing out a
//! location (client API, wizard, gateway peers) follows group membership at once.

use crate::helpers::TestApp;
use reqwest::StatusCode;

fn count(app: &TestApp, sql: &str) -> i64 {
    let conn = app.state.db.conn().expect("conn");
    conn.query_row(sql, [], |r| r.get(0)).expect("count")
}

async fn add_group(app: &TestApp, name: &str) -> crate::helpers::Page {
    app.post("/admin/groups", &[("name", name)]).await
}

#[tokio::test]
async fn groups_are_added_renamed_filled_and_deleted_with_audit() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    for (bad, message) in [
        ("", "Enter a name for the group"),
        ("   ", "Enter a name for the group"),
        ("a\nb", "without line breaks"),
    ] {
        let res = add_group(&app, bad).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
        assert!(res.body.contains(message), "{}", res.body);
    }
    assert_eq!(count(&app, "SELECT count(*) FROM user_group"), 0);
    assert_eq!(add_group(&app, " ops ").await.status, StatusCode::SEE_OTHER);
    let twice = add_group(&app, "OPS").await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(twice.body.contains("A group named OPS already exists."));
    assert_eq!(add_group(&app, "dev").await.status, StatusCode::SEE_OTHER);

    let clash = app.post("/admin/groups/2/edit", &[("name", "Ops")]).await;
    assert_eq!(clash.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(clash.body.contains("A group named Ops already exists."));
    let renamed = app
        .post("/admin/groups/2/edit", &[("name", "developers")])
        .await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER, "{}", renamed.body);

    app.add_user("jnowak", "Jan", "Nowak").await;
    let nobody = app
        .post("/admin/groups/1/members", &[("username", "nobody")])
        .await;
    assert_eq!(nobody.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nobody.body.contains("No user is named nobody."));
    let bad = app
        .post("/admin/groups/1/members", &[("username", "NO PE")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let added = app
        .post("/admin/groups/1/members", &[("username", "jnowak")])
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let again = app
        .post("/admin/groups/1/members", &[("username", "jnowak")])
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("jnowak is already a member of ops."));
    assert_eq!(count(&app, "SELECT count(*) FROM group_member"), 1);

    let page = app.get("/admin/groups/1").await;
    assert!(
        page.body.contains("Remove jnowak from ops"),
        "{}",
        page.body
    );
    let list = app.get("/admin/groups").await;
    assert!(list
        .body
        .contains(r#"href="/admin/groups" aria-current="page""#));
    assert!(list.body.contains("Members of developers") && list.body.contains("Delete ops"));
    let uid = app.user_id("jnowak").expect("id");
    let removed = app
        .post(&format!("/admin/groups/1/members/{uid}/remove"), &[])
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert_eq!(count(&app, "SELECT count(*) FROM group_member"), 0);

    assert_eq!(
        app.get("/admin/groups/2/delete").await.status,
        StatusCode::OK
    );
    let deleted = app.post("/admin/groups/2/delete", &[]).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(count(&app, "SELECT count(*) FROM user_group"), 1);
    let actions = app.audit_actions();
    for action in [
        "group.created",
        "group.renamed",
        "group.member_added",
        "group.member_removed",
        "group.deleted",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
    }
    assert_eq!(actions.iter().filter(|a| *a == "group.created").count(), 2);
}

#[tokio::test]
async fn the_user_form_sets_memberships() {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    add_group(&app, "ops").await;
    add_group(&app, "dev").await;
    let form = app.get("/admin/users/new").await;
    assert!(
        form.body.contains(r#"name="groups" value="1""#),
        "{}",
        form.body
    );
    let user = |groups: &'static [(&'static str, &'static str)]| {
        let mut fields = vec![
            ("username", "jnowak"),
            ("first_name", "Jan"),
            ("last_name", "Nowak"),
            ("email", "jnowak@example.com"),
            ("use_enrollment", "on"),
            ("groups_shown", "1"),
        ];
        fields.extend_from_slice(groups);
        fields
    };
    let stale = app.post("/admin/users", &user(&[("groups", "99")])).await;
    assert_eq!(stale.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(stale.body.contains("A group you chose no longer exists."));
    assert_eq!(app.user_id("jnowak"), None, "a refused form writes nothing");
    let res = app
        .post("/admin/users", &user(&[("groups", "1"), ("groups", "2")]))
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let id = app.user_id("jnowak").expect("id");
    let names = |app: &TestApp| -> Vec<String> {
        let conn = app.state.db.conn().expect("conn");
        onramp::db::groups::of_user(&conn, id)
            .expect("groups")
            .into_iter()
            .map(|g| g.name)
            .collect()
    };
    assert_eq!(names(&app), ["dev", "ops"]);
    let edit = app.get(&format!("/admin/users/{id}/edit")).await;
    assert!(
        edit.body.contains(r#"name="groups" value="2" checked"#),
        "{}",
        edit.body
    );

    let profile = [
        ("first_name", "Jan"),
        ("last_name", "Nowak"),
        ("email", "jnowak@example.com"),
    ];
    // A client that does not know about groups leaves them alone.
    let path = format!("/admin/users/{id}/edit");
    assert_eq!(
        app.post(&path, &profile).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(names(&app), ["dev", "ops"]);
    let mut only_ops = profile.to_vec();
    only_ops.extend([("groups_shown", "1"), ("groups", "1")]);
    assert_eq!(
        app.post(&path, &only_ops).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(names(&app), ["ops"]);
    let mut none = profile.to_vec();
    none.push(("groups_shown", "1"));
    assert_eq!(app.post(&path, &none).await.status, StatusCode::SEE_OTHER);
    assert!(names(&app).is_empty());
    let actions = app.audit_actions();
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "group.member_added")
            .count(),
        2
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "group.member_removed")
            .count(),
        2
    );
}

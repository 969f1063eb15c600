//! "Import users": CSV files checked in a dry run, then added all together or not at all.

use crate::helpers::{Page, TestApp};
use reqwest::StatusCode;

const BOUNDARY: &str = "----onramp-test-boundary";

/// Uploads `file` as the browser's multipart form does.
pub async fn upload(app: &TestApp, file: &[u8]) -> Page {
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{}\r\n",
            app.csrf
        )
        .as_bytes(),
    );
    body.extend_from_slice(
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"team.csv\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let res = app
        .client
        .post(app.url("/admin/users/import"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .expect("POST");
    Page::from(res).await
}

/// The hidden `import` id of the confirmation form.
fn import_id(page: &Page) -> String {
    let marker = r#"name="import" value=""#;
    let at = page.body.find(marker).expect("a confirmation form") + marker.len();
    page.body[at..at + page.body[at..].find('"').expect("end")].to_owned()
}

async fn admin() -> TestApp {
    let mut app = TestApp::spawn().await;
    app.admin_login().await;
    app
}

#[tokio::test]
async fn a_dry_run_shows_every_row_and_writes_nothing_until_confirmed() {
    let app = admin().await;
    app.add_user("olaf", "Olaf", "Berg").await;
    app.post("/admin/groups", &[("name", "devs")]).await;
    let before = app.user_count();
    let file = "\u{feff}email;username;first_name;last_name;phone;groups\r\n\
                anna@example.com;anna.nowak;Anna;Nowak;+48 600 100 200;devs\r\n\
                olaf2@example.com;olaf;Olaf;Berg;;\r\n\
                jan@example.com;jan;Jan;Kowal;;\r\n\
                jan@example.com;jan.k;Jan;Kowalski;;\r\n";
    let page = upload(&app, file.as_bytes()).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("2 to add, 2 skipped, 0 with errors."),
        "{}",
        page.body
    );
    assert!(page.body.contains("Skip: olaf already exists."));
    assert!(page.body.contains("Skip: Already in the file on line 4."));
    assert!(page.body.contains("Import 2 users"));
    assert_eq!(app.user_count(), before, "the dry run adds no one");

    let id = import_id(&page);
    let done = app
        .post(
            "/admin/users/import/confirm",
            &[("import", &id), ("delivery", "email")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(app.user_count(), before + 2);
    let anna = app.user("anna.nowak").expect("anna was added");
    assert_eq!(anna.phone.as_deref(), Some("+48 600 100 200"));
    let dump = app.dump_database();
    assert!(dump.contains("enrollment, CSV import"), "audited");
    let queued: i64 = app
        .state
        .db
        .conn()
        .expect("conn")
        .query_row(
            "SELECT count(*) FROM outbox WHERE kind = 'enrollment'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(queued, 2, "an invitation each, queued");
    let members: i64 = app
        .state
        .db
        .conn()
        .expect("conn")
        .query_row("SELECT count(*) FROM group_member", [], |r| r.get(0))
        .expect("count");
    assert_eq!(members, 1);

    // The same confirmation again adds no one.
    let again = app
        .post(
            "/admin/users/import/confirm",
            &[("import", &id), ("delivery", "email")],
        )
        .await;
    assert_eq!(again.location(), "/admin/users/import");
    assert_eq!(app.user_count(), before + 2);
}

#[tokio::test]
async fn a_bad_row_in_the_middle_blocks_the_whole_file() {
    let app = admin().await;
    let before = app.user_count();
    let file = "username,first_name,last_name,email,groups\n\
                anna,Anna,Nowak,anna@example.com,\n\
                bob,=HYPERLINK(\"http://evil\"),Smith,bob@example.com,\n\
                carl,Carl,Jung,not-an-email,\n\
                dora,Dora,Lis,dora@example.com,nosuchgroup\n\
                ewa,Ewa,Lis,ewa@example.com,\n";
    let page = upload(&app, file.as_bytes()).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("2 to add, 0 skipped, 3 with errors."),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("first_name starts with &quot;=&quot;"),
        "{}",
        page.body
    );
    assert!(page.body.contains("is not a valid email address"));
    assert!(page
        .body
        .contains("There is no group named &quot;nosuchgroup&quot;"));
    assert!(
        !page.body.contains(r#"name="import""#),
        "no confirmation is offered"
    );
    assert_eq!(app.user_count(), before);
}

#[tokio::test]
async fn whole_files_are_refused_with_a_reason() {
    let app = admin().await;
    let page = upload(&app, b"name,mail\nx,y\n").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("onramp does not know"), "{}", page.body);
    let page = upload(
        &app,
        b"username,first_name,last_name,email\n\xe9t\xe9,A,B,c@example.com\n",
    )
    .await;
    assert!(page.body.contains("not UTF-8"), "{}", page.body);
    let mut big = b"username,first_name,last_name,email\n".to_vec();
    big.resize(5 * 1024 * 1024 + 10, b'a');
    let page = upload(&app, &big).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("larger than 5 MB"), "{}", page.body);
}

#[tokio::test]
async fn someone_added_since_the_dry_run_cancels_the_whole_import() {
    let app = admin().await;
    let file = "username,first_name,last_name,email\n\
                anna,Anna,Nowak,anna@example.com\n\
                bob,Bob,Smith,bob@example.com\n";
    let page = upload(&app, file.as_bytes()).await;
    let id = import_id(&page);
    app.add_user("bob", "Bob", "Smith").await;
    let before = app.user_count();
    let done = app
        .post(
            "/admin/users/import/confirm",
            &[("import", &id), ("delivery", "none")],
        )
        .await;
    assert_eq!(done.location(), "/admin/users/import");
    assert_eq!(app.user_count(), before, "anna was not added either");
}

#[tokio::test]
async fn another_session_cannot_confirm_an_import() {
    let app = admin().await;
    let page = upload(
        &app,
        b"username,first_name,last_name,email\nanna,Anna,Nowak,anna@example.com\n",
    )
    .await;
    let id = import_id(&page);
    let mut other = app.another_browser();
    other.admin_login().await;
    let before = app.user_count();
    let done = other
        .post(
            "/admin/users/import/confirm",
            &[("import", &id), ("delivery", "none")],
        )
        .await;
    assert_eq!(done.location(), "/admin/users/import");
    assert_eq!(app.user_count(), before);
}

#[tokio::test]
async fn ten_thousand_rows_import_in_one_transaction() {
    let app = admin().await;
    let mut file = String::from("username,first_name,last_name,email\n");
    for i in 0..10_000 {
        file.push_str(&format!("user{i},First,Last,user{i}@example.com\n"));
    }
    let page = upload(&app, file.as_bytes()).await;
    assert!(
        page.body.contains("Import 10000 users"),
        "{}",
        &page.body[..500.min(page.body.len())]
    );
    let before = app.user_count();
    let id = import_id(&page);
    let done = app
        .post(
            "/admin/users/import/confirm",
            &[("import", &id), ("delivery", "none")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(app.user_count(), before + 10_000);
}

use crate::helpers::TestApp;
use reqwest::StatusCode;

#[tokio::test]
async fn health_answers_200_while_the_database_answers() {
    let app = TestApp::spawn().await;
    let res = app.get("/health").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.body.contains(r#""status":"ok""#));
}

#[tokio::test]
async fn health_answers_503_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    let db = app.state.config.database.clone();
    // Replace the database with something that is not a database.
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", db.display());
        let _ = std::fs::remove_file(&path);
    }
    std::fs::create_dir(&db).expect("a directory where the database was");
    let res = app.get("/health").await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE, "{}", res.body);
    assert!(res.body.contains("error"));
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    for path in ["/health", "/admin/login", "/nope"] {
        let res = app.get(path).await;
        let csp = res.header("content-security-policy");
        assert!(csp.contains("default-src 'self'"), "{path}: {csp}");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe"),
            "{path}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(res.header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(res.header("cache-control"), "no-store", "{path}");
        assert_eq!(res.header("referrer-policy"), "no-referrer", "{path}");
        assert!(res.header("access-control-allow-origin").is_empty());
    }
    assert_eq!(app.get("/nope").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn assets_are_embedded_under_content_hashed_urls() {
    let app = TestApp::spawn().await;
    let page = app.get("/admin/login").await;
    let start = page.body.find("/assets/").expect("an asset URL");
    let url = &page.body[start..start + page.body[start..].find('"').expect("end")];
    assert!(url.ends_with("/app.css"), "{url}");
    let res = app.get(url).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.header("content-type").starts_with("text/css"));
    assert!(res.header("cache-control").contains("immutable"));
    let htmx = page
        .body
        .split('"')
        .find(|s| s.contains("htmx.min.js"))
        .expect("htmx script");
    let res = app.get(htmx).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.body.contains("htmx"));
    // A stale hash still serves the file, but not for a year.
    let res = app.get("/assets/0000000000000000/app.css").await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.header("cache-control"), "no-cache");
    assert_eq!(
        app.get("/assets/0/nope.js").await.status,
        StatusCode::NOT_FOUND
    );
}

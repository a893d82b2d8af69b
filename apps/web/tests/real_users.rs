//! Web against the real users API (in-process, on SQLite): the contract the fake in
//! `common` plays holds for the real thing; and forms another site makes a browser send are
//! refused.

mod common;

use axum::body::Body;
use axum::http::{Request, header};
use common::*;
use tower::ServiceExt;

/// The users API on 127.0.0.1, on a fresh in-memory SQLite: its base URL.
async fn real_users() -> String {
    let store = users::store::Store::connect("sqlite::memory:", 1)
        .await
        .unwrap();
    let app = users::app::build(store, 16 * 1024);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let make = axum::ServiceExt::<axum::extract::Request>::into_make_service(app);
        axum::serve(listener, make).await.unwrap();
    });
    url
}

#[tokio::test]
async fn add_refuse_rename_and_delete_through_the_real_users_api() {
    let app = web(&real_users().await, 5);
    let res = post(&app, "/users", &[("id", "1"), ("name", " Ada ")]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(
        get(&app, "/")
            .await
            .body
            .contains("<td>1</td><td class=\"name\">Ada</td>")
    );
    let res = post(&app, "/users", &[("id", "1"), ("name", "Eve")]).await;
    assert_eq!(res.status, 409, "{}", res.body);
    res.assert_alert("A user with ID 1 already exists.");
    let res = post(&app, "/users/1", &[("name", "Ada King")]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(get(&app, "/users/1/edit").await.body.contains("Ada King"));
    let res = post(&app, "/users/1/delete", &[]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert!(get(&app, "/").await.body.contains("No users yet."));
    let res = get(&app, "/users/1/edit").await;
    assert_eq!(res.status, 404);
}

#[tokio::test]
async fn forms_sent_from_another_site_are_refused() {
    let (app, fake) = with_users(&[(1, "Ada")]).await;
    for (path, fields) in [
        ("/users", vec![("id", "2"), ("name", "Mallory")]),
        ("/users/1", vec![("name", "Mallory")]),
        ("/users/1/delete", vec![]),
    ] {
        let req = Request::builder()
            .method("POST")
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "cross-site")
            .body(Body::from(common::form(&fields)))
            .unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), 403, "{path}");
    }
    assert_eq!(fake.name_of(1).as_deref(), Some("Ada"));
    assert_eq!(fake.name_of(2), None);
    // The same form from this site goes through.
    let res = post(&app, "/users/1", &[("name", "Ada King")]).await;
    assert_eq!(res.status, 303);
}

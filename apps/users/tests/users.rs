//! The users API in-process: CRUD, validation, errors, on SQLite and PostgreSQL.

mod common;

use axum::http::{Method, StatusCode};
use common::{MAX_BODY, app, json, send};
use serde_json::json;
use users::app::App;

/// Runs each scenario on both backends (PostgreSQL from STACKCTL_TEST_POSTGRES_URL).
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() {
                super::$name(super::app(super::common::sqlite_store().await)).await
            })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() {
                if let Some(store) = super::common::postgres_store().await {
                    super::$name(super::app(store)).await
                }
            })*
        }
    };
}

on_both_backends!(crud, validation, duplicates_and_missing, paging);

async fn crud(app: App) {
    let res = json(
        &app,
        Method::POST,
        "/users",
        json!({"id": 7, "name": "  Ada  "}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert_eq!(res.location.as_deref(), Some("/users/7"));
    assert_eq!(res.json(), json!({"id": 7, "name": "Ada"}));
    json(
        &app,
        Method::POST,
        "/users",
        json!({"id": 3, "name": "Grace"}),
    )
    .await;
    let list = send(&app, Method::GET, "/users", None).await;
    assert_eq!(
        list.json(),
        json!({"users": [{"id": 3, "name": "Grace"}, {"id": 7, "name": "Ada"}]})
    );
    let res = json(
        &app,
        Method::PUT,
        "/users/7",
        json!({"name": "Ada Lovelace"}),
    )
    .await;
    assert_eq!(res.json(), json!({"id": 7, "name": "Ada Lovelace"}));
    // The whole object back is fine while its id is the path's.
    let res = json(
        &app,
        Method::PUT,
        "/users/7",
        json!({"id": 7, "name": "Ada L."}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    let res = send(&app, Method::GET, "/users/7", None).await;
    assert_eq!(res.json(), json!({"id": 7, "name": "Ada L."}));
    let res = send(&app, Method::DELETE, "/users/7", None).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert!(res.body.is_empty());
    send(&app, Method::GET, "/users/7", None)
        .await
        .error(404, "not_found");
    // Unicode is kept as sent (trimmed), 100 characters being the limit.
    let long = "é".repeat(100);
    let res = json(&app, Method::POST, "/users", json!({"id": 9, "name": long})).await;
    assert_eq!(res.json()["name"], long.as_str());
}

async fn validation(app: App) {
    let post = |body| json(&app, Method::POST, "/users", body);
    for (body, text) in [
        (
            json!({"id": 0, "name": "x"}),
            "id must be a positive integer",
        ),
        (
            json!({"id": -4, "name": "x"}),
            "id must be a positive integer",
        ),
        (
            json!({"id": 9007199254740992_i64, "name": "x"}),
            "id must be a positive integer",
        ),
        (json!({"id": 1, "name": "   "}), "name must not be empty"),
        (
            json!({"id": 1, "name": "x".repeat(101)}),
            "at most 100 characters (got 101)",
        ),
        (json!({"id": 1, "name": "a\u{0}b"}), "control characters"),
        (json!({"id": "1", "name": "x"}), "invalid type"),
        (json!({"id": 1.5, "name": "x"}), "invalid type"),
        (json!({"id": 1}), "missing field `name`"),
        (
            json!({"id": 1, "name": "x", "admin": true}),
            "unknown field `admin`",
        ),
    ] {
        let message = post(body.clone()).await.error(422, "invalid_body");
        assert!(message.contains(text), "{body}: {message}");
    }
    let res = send(
        &app,
        Method::POST,
        "/users",
        Some(("application/json", b"{\"id\":".to_vec())),
    );
    assert!(
        res.await
            .error(400, "bad_request")
            .contains("malformed JSON")
    );
    let res = send(
        &app,
        Method::POST,
        "/users",
        Some(("text/plain", b"{}".to_vec())),
    )
    .await;
    res.error(415, "unsupported_media_type");
    let big = json!({"id": 1, "name": "x".repeat(MAX_BODY)});
    post(big).await.error(413, "payload_too_large");
    for path in [
        "/users/0",
        "/users/-1",
        "/users/abc",
        "/users/1.0",
        "/users/99999999999999999999",
    ] {
        send(&app, Method::GET, path, None)
            .await
            .error(400, "bad_request");
    }
    let res = json(&app, Method::PUT, "/users/1", json!({"id": 2, "name": "x"})).await;
    assert!(res.error(422, "invalid_body").contains("cannot change"));
    send(&app, Method::GET, "/users?limit=0", None)
        .await
        .error(400, "bad_request");
    send(&app, Method::GET, "/users?sort=name", None)
        .await
        .error(400, "bad_request");
    send(&app, Method::PATCH, "/users/1", None)
        .await
        .error(405, "method_not_allowed");
    send(&app, Method::GET, "/nope", None)
        .await
        .error(404, "not_found");
    // Nothing was stored along the way.
    let list = send(&app, Method::GET, "/users", None).await;
    assert_eq!(list.json(), json!({"users": []}));
}

async fn duplicates_and_missing(app: App) {
    json(
        &app,
        Method::POST,
        "/users",
        json!({"id": 1, "name": "Ada"}),
    )
    .await;
    let res = json(
        &app,
        Method::POST,
        "/users",
        json!({"id": 1, "name": "Eve"}),
    )
    .await;
    assert_eq!(
        res.error(409, "conflict"),
        "a user with id 1 already exists"
    );
    assert_eq!(
        send(&app, Method::GET, "/users/1", None).await.json()["name"],
        "Ada"
    );
    json(&app, Method::PUT, "/users/2", json!({"name": "x"}))
        .await
        .error(404, "not_found");
    send(&app, Method::DELETE, "/users/2", None)
        .await
        .error(404, "not_found");
}

async fn paging(app: App) {
    for id in 1..=5 {
        json(
            &app,
            Method::POST,
            "/users",
            json!({"id": id * 10, "name": "u"}),
        )
        .await;
    }
    let page = send(&app, Method::GET, "/users?limit=2", None).await.json();
    assert_eq!(page["users"].as_array().unwrap().len(), 2);
    assert_eq!(page["next_after"], 20);
    let page = send(&app, Method::GET, "/users?after=20&limit=3", None)
        .await
        .json();
    let ids: Vec<i64> = page["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [30, 40, 50]);
}

#[tokio::test]
async fn health_openapi_and_metrics() {
    let app = app(common::sqlite_store().await);
    for path in ["/status", "/healthz"] {
        let res = send(&app, Method::GET, path, None).await;
        assert_eq!(res.json(), json!({"status": "ok", "storage": "sqlite"}));
    }
    let doc = send(&app, Method::GET, "/openapi.json", None).await.json();
    let paths = doc["paths"].as_object().unwrap();
    for path in ["/users", "/users/{id}", "/status", "/healthz", "/metrics"] {
        assert!(
            paths.contains_key(path),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(paths["/users"]["post"]["responses"]["409"].is_object());
    json(&app, Method::POST, "/users", json!({"id": 1, "name": "a"})).await;
    let res = send(&app, Method::GET, "/metrics", None).await;
    let text = String::from_utf8(res.body).unwrap();
    assert!(
        text.contains("http_requests_total{method=\"POST\",route=\"/users\",status=\"201\"} 1"),
        "{text}"
    );
    assert!(text.contains("users_log_lines_dropped_total"), "{text}");
}

/// A database that went away is a 503 with a JSON body, on health checks and routes alike.
#[tokio::test]
async fn storage_down_is_503() {
    let store = common::sqlite_store().await;
    let app = app(store.clone());
    store.pool().close().await;
    send(&app, Method::GET, "/healthz", None)
        .await
        .error(503, "storage_unavailable");
    send(&app, Method::GET, "/users", None)
        .await
        .error(503, "storage_unavailable");
}

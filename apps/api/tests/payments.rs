//! The payments API, legacy and /v1, on SQLite and on PostgreSQL: every route, every error.

mod common;

use api::store::Store;
use axum::Router;
use common::*;
use serde_json::json;

/// Runs each test on both backends (PostgreSQL from STACKCTL_TEST_POSTGRES_URL).
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() {
                let store = super::sqlite_store().await;
                super::$name(super::app(store.clone()), store).await
            })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() {
                if let Some(store) = super::postgres_store().await {
                    super::$name(super::app(store.clone()), store).await
                }
            })*
        }
    };
}

on_both_backends!(
    legacy_create_returns_200_and_keeps_data_verbatim,
    amounts_are_exact,
    bad_create_bodies_get_json_4xx,
    legacy_update_list_delete,
    legacy_errors,
    v1_create_get_patch_delete,
    v1_pagination,
    v1_errors,
    storage_failure_is_503,
);

async fn legacy_create_returns_200_and_keeps_data_verbatim(app: Router, _store: Store) {
    let body = r#"{"data": {"order": "A-1", "big": 12345678901234567890, "price": 0.1, "nested": {"k": [1, null]}}, "payment": 12.34}"#;
    let res = Req::new("POST", "/create")
        .authed()
        .raw_body("application/json", body)
        .send(&app)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let text = res.text();
    assert!(
        text.contains("12345678901234567890"),
        "big integers survive: {text}"
    );
    let v = res.json();
    assert!(v["id"].as_i64().unwrap() > 0);
    assert_eq!(v["status"], "inserted");
    assert_eq!(v["payment"], "12.34");
    assert_eq!(v["data"]["order"], "A-1");
    assert_eq!(v["data"]["nested"], json!({"k": [1, null]}));
    assert!(res.header("location").is_none());
}

async fn amounts_are_exact(app: Router, _store: Store) {
    for (given, stored) in [
        (json!(0.29), "0.29"),
        (json!("0.29"), "0.29"),
        (json!(1), "1.00"),
        (json!(0), "0.00"),
        (json!(99999.99), "99999.99"),
        (json!("12.5"), "12.50"),
    ] {
        let res = Req::new("POST", "/create")
            .authed()
            .json(json!({"data": {}, "payment": given}))
            .send(&app)
            .await;
        assert_eq!(res.status, 200, "{given}: {}", res.text());
        assert_eq!(res.json()["payment"], stored);
    }
    for bad in [
        json!(100000),
        json!(1.005),
        json!(-1),
        json!("1e2"),
        json!(null),
        json!("abc"),
        json!(true),
    ] {
        let res = Req::new("POST", "/create")
            .authed()
            .json(json!({"data": {}, "payment": bad}))
            .send(&app)
            .await;
        res.assert_error(422, "invalid_body");
        assert!(
            res.json()["message"]
                .as_str()
                .unwrap()
                .contains("payment must be"),
            "{bad}"
        );
    }
}

async fn bad_create_bodies_get_json_4xx(app: Router, _store: Store) {
    let post = |ct: &str, body: &str| {
        Req::new("POST", "/create")
            .authed()
            .raw_body(ct, body.to_string())
    };
    post("application/json", "{\"data\": {")
        .send(&app)
        .await
        .assert_error(400, "bad_request");
    post("application/json", "")
        .send(&app)
        .await
        .assert_error(400, "bad_request");
    post("application/json", "not json")
        .send(&app)
        .await
        .assert_error(400, "bad_request");
    post("application/json", "[]")
        .send(&app)
        .await
        .assert_error(422, "invalid_body");
    post("application/json", r#"{"data": "x", "payment": 1}"#)
        .send(&app)
        .await
        .assert_error(422, "invalid_body");
    post("application/json", r#"{"data": [1], "payment": 1}"#)
        .send(&app)
        .await
        .assert_error(422, "invalid_body");
    post("application/json", r#"{"data": {}}"#)
        .send(&app)
        .await
        .assert_error(422, "invalid_body");
    post("application/json", r#"{"payment": 1}"#)
        .send(&app)
        .await
        .assert_error(422, "invalid_body");
    let res = post(
        "application/json",
        r#"{"data": {}, "payment": 1, "status": "consumed"}"#,
    )
    .send(&app)
    .await;
    res.assert_error(422, "invalid_body");
    assert!(
        res.json()["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `status`")
    );
    post("text/plain", r#"{"data": {}, "payment": 1}"#)
        .send(&app)
        .await
        .assert_error(415, "unsupported_media_type");
    post("", r#"{"data": {}, "payment": 1}"#)
        .send(&app)
        .await
        .assert_error(415, "unsupported_media_type");
    let big = format!(
        r#"{{"data": {{"pad": "{}"}}, "payment": 1}}"#,
        "x".repeat(MAX_BODY)
    );
    post("application/json", &big)
        .send(&app)
        .await
        .assert_error(413, "payload_too_large");
    // Invalid UTF-8 inside a JSON string.
    let res = Req::new("POST", "/create")
        .authed()
        .raw_body(
            "application/json",
            b"{\"data\": {\"a\": \"\xff\"}, \"payment\": 1}".to_vec(),
        )
        .send(&app)
        .await;
    res.assert_error(400, "bad_request");
}

async fn legacy_update_list_delete(app: Router, _store: Store) {
    let a = create(&app, "1.00").await;
    let b = create(&app, "2.00").await;
    let c = create(&app, "3.00").await;

    let res = Req::new("PUT", &format!("/update/{b}"))
        .authed()
        .json(json!({"status": "consumed"}))
        .send(&app)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["status"], "consumed");
    assert_eq!(res.json()["payment"], "2.00");
    let res = Req::new("PUT", &format!("/update/{b}"))
        .authed()
        .json(json!({"status": "inserted"}))
        .send(&app)
        .await;
    assert_eq!(res.json()["status"], "inserted");

    let res = Req::get("/list").authed().send(&app).await;
    assert_eq!(res.status, 200);
    let ids: Vec<i64> = res
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [a, b, c]);
    let res = Req::get(&format!("/list?limit=1&after={a}"))
        .authed()
        .send(&app)
        .await;
    assert_eq!(res.json().as_array().unwrap().len(), 1);
    assert_eq!(res.json()[0]["id"], b);

    let res = Req::new("DELETE", &format!("/delete/{b}"))
        .authed()
        .send(&app)
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["id"], b);
    Req::new("DELETE", &format!("/delete/{b}"))
        .authed()
        .send(&app)
        .await
        .assert_error(404, "not_found");
    let res = Req::get("/list").authed().send(&app).await;
    assert_eq!(res.json().as_array().unwrap().len(), 2);
}

async fn legacy_errors(app: Router, _store: Store) {
    let id = create(&app, "1.00").await;
    let put = |uri: String, body| Req::new("PUT", &uri).authed().json(body);
    put(format!("/update/{id}"), json!({"status": "paid"}))
        .send(&app)
        .await
        .assert_error(422, "invalid_body");
    put(format!("/update/{id}"), json!({"status": 1}))
        .send(&app)
        .await
        .assert_error(422, "invalid_body");
    put(format!("/update/{id}"), json!({}))
        .send(&app)
        .await
        .assert_error(422, "invalid_body");
    put(
        format!("/update/{id}"),
        json!({"status": "consumed", "x": 1}),
    )
    .send(&app)
    .await
    .assert_error(422, "invalid_body");
    put("/update/999999".into(), json!({"status": "consumed"}))
        .send(&app)
        .await
        .assert_error(404, "not_found");
    for bad in ["abc", "0", "-1", "1.5", "99999999999999999999"] {
        put(format!("/update/{bad}"), json!({"status": "consumed"}))
            .send(&app)
            .await
            .assert_error(400, "bad_request");
        Req::new("DELETE", &format!("/delete/{bad}"))
            .authed()
            .send(&app)
            .await
            .assert_error(400, "bad_request");
    }
    Req::new("DELETE", "/delete/999999")
        .authed()
        .send(&app)
        .await
        .assert_error(404, "not_found");
    for q in [
        "limit=0",
        "limit=1001",
        "limit=x",
        "after=y",
        "foo=1",
        "limit=-1",
    ] {
        Req::get(&format!("/list?{q}"))
            .authed()
            .send(&app)
            .await
            .assert_error(400, "bad_request");
    }
    // Routing comes before auth, as in Flask: wrong methods are 405 (with Allow) even without a token.
    let res = Req::get("/create").send(&app).await;
    res.assert_error(405, "method_not_allowed");
    assert_eq!(res.header("allow"), Some("POST"));
    Req::new("POST", "/list")
        .authed()
        .send(&app)
        .await
        .assert_error(405, "method_not_allowed");
    Req::get("/update/1")
        .authed()
        .send(&app)
        .await
        .assert_error(405, "method_not_allowed");
    Req::get("/nope")
        .authed()
        .send(&app)
        .await
        .assert_error(404, "not_found");
}

async fn v1_create_get_patch_delete(app: Router, _store: Store) {
    let res = Req::new("POST", "/v1/payments")
        .authed()
        .json(json!({"data": {"k": "v"}, "payment": "42.10"}))
        .send(&app)
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let id = res.json()["id"].as_i64().unwrap();
    let location = res.header("location").unwrap().to_string();
    assert_eq!(location, format!("/v1/payments/{id}"));
    let created = res.json();

    let res = Req::get(&location).authed().send(&app).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json(), created);
    assert_eq!(created["status"], "inserted");
    assert_eq!(created["payment"], "42.10");

    let res = Req::new("PATCH", &location)
        .authed()
        .json(json!({"status": "consumed"}))
        .send(&app)
        .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["status"], "consumed");
    assert_eq!(
        Req::get(&location).authed().send(&app).await.json()["status"],
        "consumed"
    );

    let res = Req::new("DELETE", &location).authed().send(&app).await;
    assert_eq!(res.status, 204);
    assert!(res.body.is_empty());
    Req::get(&location)
        .authed()
        .send(&app)
        .await
        .assert_error(404, "not_found");
    Req::new("DELETE", &location)
        .authed()
        .send(&app)
        .await
        .assert_error(404, "not_found");
}

async fn v1_pagination(app: Router, _store: Store) {
    let res = Req::get("/v1/payments").authed().send(&app).await;
    assert_eq!(res.json(), json!({"payments": [], "next_after": null}));
    let mut ids = Vec::new();
    for i in 0..101 {
        ids.push(create(&app, &format!("{i}.01")).await);
    }
    // Default page size is 100.
    let page = Req::get("/v1/payments").authed().send(&app).await.json();
    assert_eq!(page["payments"].as_array().unwrap().len(), 100);
    assert_eq!(page["next_after"], ids[99]);
    let page = Req::get(&format!("/v1/payments?after={}", ids[99]))
        .authed()
        .send(&app)
        .await
        .json();
    assert_eq!(page["payments"].as_array().unwrap().len(), 1);
    assert_eq!(page["next_after"], json!(null));
    // Walk in pages of 40.
    let (mut seen, mut after) = (Vec::new(), None::<i64>);
    loop {
        let uri = match after {
            Some(a) => format!("/v1/payments?limit=40&after={a}"),
            None => "/v1/payments?limit=40".to_string(),
        };
        let page = Req::get(&uri).authed().send(&app).await.json();
        seen.extend(
            page["payments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_i64().unwrap()),
        );
        match page["next_after"].as_i64() {
            Some(a) => after = Some(a),
            None => break,
        }
    }
    assert_eq!(seen, ids);
}

async fn v1_errors(app: Router, _store: Store) {
    let id = create(&app, "5.00").await;
    Req::get("/v1/payments/999999")
        .authed()
        .send(&app)
        .await
        .assert_error(404, "not_found");
    Req::get("/v1/payments/abc")
        .authed()
        .send(&app)
        .await
        .assert_error(400, "bad_request");
    let patch = |uri: String, body| Req::new("PATCH", &uri).authed().json(body);
    patch(format!("/v1/payments/{id}"), json!({"status": "refunded"}))
        .send(&app)
        .await
        .assert_error(422, "invalid_body");
    patch("/v1/payments/999999".into(), json!({"status": "consumed"}))
        .send(&app)
        .await
        .assert_error(404, "not_found");
    Req::new("PATCH", &format!("/v1/payments/{id}"))
        .authed()
        .raw_body("application/json", "{")
        .send(&app)
        .await
        .assert_error(400, "bad_request");
    Req::new("POST", "/v1/payments")
        .authed()
        .json(json!({"data": 1, "payment": 1}))
        .send(&app)
        .await
        .assert_error(422, "invalid_body");
    Req::get("/v1/payments?limit=5000")
        .authed()
        .send(&app)
        .await
        .assert_error(400, "bad_request");
    let res = Req::new("PUT", &format!("/v1/payments/{id}"))
        .authed()
        .send(&app)
        .await;
    res.assert_error(405, "method_not_allowed");
    assert_eq!(allowed(&res), ["DELETE", "GET", "HEAD", "PATCH"]);
    let res = Req::new("DELETE", "/v1/payments").authed().send(&app).await;
    res.assert_error(405, "method_not_allowed");
    assert_eq!(allowed(&res), ["GET", "HEAD", "POST"]);
    Req::get("/v1/payments/1/extra")
        .authed()
        .send(&app)
        .await
        .assert_error(404, "not_found");
}

async fn storage_failure_is_503(app: Router, store: Store) {
    // Close the pool under the running app: storage errors are 503 JSON, never 500.
    let res = Req::get("/status").send(&app).await;
    assert_eq!(res.status, 200);
    store.close().await;
    Req::get("/v1/payments")
        .authed()
        .send(&app)
        .await
        .assert_error(503, "storage_unavailable");
    Req::new("POST", "/create")
        .authed()
        .json(json!({"data": {}, "payment": 1}))
        .send(&app)
        .await
        .assert_error(503, "storage_unavailable");
    Req::get("/status")
        .send(&app)
        .await
        .assert_error(503, "storage_unavailable");
    Req::get("/healthz")
        .send(&app)
        .await
        .assert_error(503, "storage_unavailable");
}

fn allowed(res: &Res) -> Vec<&str> {
    let mut methods: Vec<&str> = res.header("allow").unwrap().split(',').collect();
    methods.sort();
    methods
}

//! The /v1 payments API on SQLite and on PostgreSQL: every route, every error, and what a
//! storage failure looks like.

mod common;

use api::app::App as Router;
use api::store::Store;
use common::*;
use serde_json::json;

on_both_backends!(
    v1_create_get_patch_delete,
    v1_pagination,
    v1_errors,
    storage_failure_is_503
);

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

/// Deployed without a database (`DATABASE=none`): every payments route answers 503 with a
/// JSON error naming stack.yaml's `database:` section; health stays 200, so the load
/// balancer keeps serving the rest of the API.
#[tokio::test]
async fn without_a_database_payments_are_503_and_name_the_fix() {
    let app = app(Store::Off);
    let res = Req::get("/status").send(&app).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["storage"], "none");
    let list = Req::get("/v1/payments").authed().send(&app).await;
    list.assert_error(503, "no_database");
    assert!(
        list.json()["message"]
            .as_str()
            .unwrap()
            .contains("`database:`")
    );
    Req::new("POST", "/v1/payments")
        .authed()
        .json(json!({"data": {}, "payment": 1}))
        .send(&app)
        .await
        .assert_error(503, "no_database");
    Req::new("POST", "/create")
        .authed()
        .json(json!({"data": {}, "payment": 1}))
        .send(&app)
        .await
        .assert_error(503, "no_database");
    Req::get("/v1/payments/1")
        .authed()
        .send(&app)
        .await
        .assert_error(503, "no_database");
}

//! The legacy payments API on SQLite and on PostgreSQL: every route, every error. The /v1
//! API is in `payments_v1.rs`.

mod common;

use api::app::App as Router;
use api::store::Store;
use common::*;
use serde_json::json;

on_both_backends!(
    legacy_create_returns_200_and_keeps_data_verbatim,
    amounts_are_exact,
    bad_create_bodies_get_json_4xx,
    legacy_update_list_delete,
    legacy_errors,
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

//! Health, auth on every protected route, metrics, the OpenAPI document, rate limiting.

mod common;

use std::time::Duration;

use api::ratelimit::RateLimitConfig;
use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn health_needs_no_token() {
    let app = sqlite_app().await;
    for path in ["/status", "/healthz"] {
        let res = Req::get(path).send(&app).await;
        assert_eq!(res.status, 200);
        assert_eq!(res.json(), json!({"status": "ok", "storage": "sqlite"}));
    }
}

/// Every (path, method) in the OpenAPI document, with `{id}` filled in.
fn documented(doc: &Value) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let secured = op.get("security").is_some();
            out.push((method.to_uppercase(), path.replace("{id}", "1"), secured));
        }
    }
    out
}

#[tokio::test]
async fn openapi_matches_the_routes() {
    let app = sqlite_app().await;
    create(&app, "1.00").await;
    let res = Req::get("/openapi.json").authed().send(&app).await;
    assert_eq!(res.status, 200);
    assert_eq!(content_type(&res), Some("application/json"));
    let doc = res.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc, serde_json::to_value(api::app::openapi()).unwrap());
    let mut ops: Vec<String> = documented(&doc)
        .iter()
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    ops.sort();
    let expected = [
        "DELETE /delete/1",
        "DELETE /v1/payments/1",
        "GET /",
        "GET /healthz",
        "GET /list",
        "GET /metrics",
        "GET /openapi.json",
        "GET /status",
        "GET /v1/payments",
        "GET /v1/payments/1",
        "PATCH /v1/payments/1",
        "POST /create",
        "POST /v1/payments",
        "PUT /update/1",
    ];
    assert_eq!(ops, expected);
    // Each documented operation is really routed: never a "no route" 404 nor a 405.
    for (method, path, _) in documented(&doc) {
        let res = Req::new(&method, &path)
            .authed()
            .json(json!({"status": "consumed"}))
            .send(&app)
            .await;
        assert_ne!(res.status, 405, "{method} {path}");
        if res.status == 404 {
            assert!(
                !res.text().contains("no route"),
                "{method} {path} is documented but not routed"
            );
        }
    }
}

#[tokio::test]
async fn every_route_but_health_needs_the_token() {
    let app = sqlite_app().await;
    let doc = serde_json::to_value(api::app::openapi()).unwrap();
    for (method, path, secured) in documented(&doc) {
        let public = path == "/status" || path == "/healthz";
        assert_eq!(secured, !public, "{method} {path}: documented security");
        let body = json!({"data": {}, "payment": 1});
        let res = Req::new(&method, &path).json(body.clone()).send(&app).await;
        if public {
            assert_eq!(res.status, 200, "{method} {path}");
            continue;
        }
        assert_eq!(res.status, 401, "{method} {path}");
        assert_eq!(
            res.header("www-authenticate"),
            Some("Token realm=\"Authentication Required\"")
        );
        if path != "/" {
            res.assert_error(401, "unauthorized");
        }
        let res = Req::new(&method, &path)
            .token("wrong")
            .json(body.clone())
            .send(&app)
            .await;
        assert_eq!(res.status, 401, "{method} {path}");
        let res = Req::new(&method, &path)
            .token(PREVIOUS)
            .json(body)
            .send(&app)
            .await;
        assert_ne!(res.status, 401, "{method} {path} with the previous token");
    }
}

#[tokio::test]
async fn metrics_count_by_route_and_status() {
    let app = sqlite_app().await;
    Req::get("/").authed().send(&app).await;
    Req::get("/").send(&app).await;
    let id = create(&app, "1.00").await;
    Req::get(&format!("/v1/payments/{id}"))
        .authed()
        .send(&app)
        .await;
    Req::get("/no/such/path").send(&app).await;
    let res = Req::get("/metrics").authed().send(&app).await;
    assert_eq!(res.status, 200);
    assert_eq!(content_type(&res), Some(api::metrics::CONTENT_TYPE));
    let text = res.text();
    for line in [
        "# TYPE http_requests counter",
        "# TYPE http_request_duration_seconds histogram",
        "http_requests_total{method=\"GET\",route=\"/\",status=\"200\"} 1",
        "http_requests_total{method=\"GET\",route=\"/\",status=\"401\"} 1",
        "http_requests_total{method=\"POST\",route=\"/v1/payments\",status=\"201\"} 1",
        "http_requests_total{method=\"GET\",route=\"/v1/payments/{id}\",status=\"200\"} 1",
        "http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1",
        "http_request_duration_seconds_count{method=\"GET\",route=\"/\",status=\"200\"} 1",
        "api_log_lines_dropped_total 0",
        "# EOF",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    assert!(text.contains("http_request_duration_seconds_bucket{le=\"+Inf\",method=\"GET\",route=\"/\",status=\"200\"} 1"));
}

fn limited_app(store: api::store::Store, trust_forwarded_for: bool) -> api::app::App {
    let limit = RateLimitConfig {
        per_second: 1,
        burst: 2,
        trust_forwarded_for,
    };
    api::app::build(tokens(), store, limit, MAX_BODY)
}

#[tokio::test]
async fn rate_limit_per_client_with_retry_after() {
    let app = limited_app(sqlite_store().await, false);
    let a = [10, 0, 0, 1];
    assert_eq!(
        Req::get("/").authed().client_ip(a).send(&app).await.status,
        200
    );
    assert_eq!(Req::get("/").client_ip(a).send(&app).await.status, 401);
    let res = Req::get("/").authed().client_ip(a).send(&app).await;
    res.assert_error(429, "rate_limited");
    assert_eq!(res.header("retry-after"), Some("1"));
    // Another client has its own budget; health checks are never limited.
    assert_eq!(
        Req::get("/")
            .authed()
            .client_ip([10, 0, 0, 2])
            .send(&app)
            .await
            .status,
        200
    );
    for _ in 0..5 {
        assert_eq!(
            Req::get("/healthz").client_ip(a).send(&app).await.status,
            200
        );
        assert_eq!(
            Req::get("/status").client_ip(a).send(&app).await.status,
            200
        );
    }
    // The budget refills at the sustained rate.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        Req::get("/").authed().client_ip(a).send(&app).await.status,
        200
    );
}

#[tokio::test]
async fn rate_limit_keys_on_forwarded_for_only_when_trusted() {
    let lb = [10, 0, 0, 9];
    let trusted = limited_app(sqlite_store().await, true);
    for client in ["1.1.1.1", "2.2.2.2", "3.3.3.3"] {
        for _ in 0..2 {
            let req = Req::get("/")
                .authed()
                .client_ip(lb)
                .header("x-forwarded-for", format!("6.6.6.6, {client}"));
            assert_eq!(req.send(&trusted).await.status, 200);
        }
    }
    let untrusted = limited_app(sqlite_store().await, false);
    let mut statuses = Vec::new();
    for client in ["1.1.1.1", "2.2.2.2", "3.3.3.3"] {
        let req = Req::get("/")
            .authed()
            .client_ip(lb)
            .header("x-forwarded-for", client);
        statuses.push(req.send(&untrusted).await.status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 429]);
}

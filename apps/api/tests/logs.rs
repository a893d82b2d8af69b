//! Access logs. Alone in its own test binary: tracing's callsite cache is process-wide, and
//! tests on other threads emitting the same events without a subscriber would race with ours.

mod common;

use common::*;
use serde_json::{Value, json};

#[tokio::test(flavor = "current_thread")]
async fn one_json_log_line_per_request_without_secrets() {
    use tracing_subscriber::layer::SubscriberExt;
    let (layer, captured) = api::logging::JsonLayer::in_memory();
    let subscriber = tracing_subscriber::registry().with(layer);
    let _guard = tracing::subscriber::set_default(subscriber);
    let app = sqlite_app().await;
    Req::get("/?token=query-secret").authed().send(&app).await;
    Req::new("POST", "/create")
        .token("wrong-secret")
        .json(json!({}))
        .send(&app)
        .await;
    let out = captured.finish();
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["target"] == "api::access")
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0]["method"], "GET");
    assert_eq!(lines[0]["path"], "/");
    assert_eq!(lines[0]["status"], 200);
    assert!(lines[0]["latency_us"].is_u64());
    assert!(lines[0]["ts"].as_str().unwrap().ends_with('Z'));
    assert_eq!(lines[1]["status"], 401);
    for secret in [
        TOKEN,
        "wrong-secret",
        "query-secret",
        "Authorization",
        "authorization",
    ] {
        assert!(!out.contains(secret), "log leaks {secret}: {out}");
    }
}

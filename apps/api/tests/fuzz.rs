//! Property tests: hostile methods, paths, headers and bodies against the whole app, in
//! process. Cases: `API_FUZZ_CASES` (default 3000); reproduce a run with `PROPTEST_RNG_SEED`.

mod common;
#[path = "common/fuzz_head.rs"]
mod head;
#[path = "common/fuzz.rs"]
mod strategies;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use api::app::App;
use api::money::Money;
use api::ratelimit::RateLimitConfig;
use api::store::Store;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri, header};
use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;
use strategies::{BodySpec, Case, Chunks, ENDPOINTS, Shape};
use tower::ServiceExt;

/// The large body limit of app 3 (the others use MAX_BODY), so big bodies reach the parser.
const BIG_BODY: usize = 1 << 20;
const DEFAULT_CASES: u32 = 3000;
/// More payments than the largest page, so page limits bind.
const SEEDED: usize = 1100;

fn cases() -> u32 {
    std::env::var("API_FUZZ_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

async fn seeded_store(n: usize) -> Store {
    let store = sqlite_store().await;
    for i in 0..n {
        let data = format!(r#"{{"order":"seed-{i}","note":"{}"}}"#, "n".repeat(200));
        let amount = Money::from_cents(i as i64).unwrap();
        store.create(&data, amount).await.unwrap();
    }
    store
}

/// Small body limit, large body limit, rate-limited (by X-Forwarded-For): see `Case::app`.
async fn apps() -> [App; 3] {
    let limited = RateLimitConfig {
        per_second: 20,
        burst: 5,
        trust_forwarded_for: true,
    };
    [
        api::app::build(tokens(), seeded_store(SEEDED).await, NO_LIMIT, MAX_BODY),
        api::app::build(tokens(), seeded_store(SEEDED).await, NO_LIMIT, BIG_BODY),
        api::app::build(tokens(), seeded_store(10).await, limited, MAX_BODY),
    ]
}

fn app_of(case: &Case) -> (usize, usize) {
    match case.app {
        0..=2 => (0, MAX_BODY),
        3 => (1, BIG_BODY),
        _ => (2, MAX_BODY),
    }
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
    /// Bytes the app pulled from a streamed body.
    pulled: Option<usize>,
}

fn request(case: &Case) -> (Request<Body>, Option<Arc<AtomicUsize>>) {
    let (body, pulled) = case.body.build();
    let mut req = Request::new(body);
    *req.method_mut() = Method::from_bytes(case.method.as_bytes()).unwrap();
    *req.uri_mut() = Uri::try_from(&case.uri.0[..]).unwrap();
    let h = req.headers_mut();
    for v in &case.auth {
        h.append(
            header::AUTHORIZATION,
            HeaderValue::from_bytes(&v.0).unwrap(),
        );
    }
    if let Some(ct) = &case.content_type {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_bytes(&ct.0).unwrap(),
        );
    }
    for (name, v) in &case.headers {
        let name = HeaderName::from_bytes(name.as_bytes()).unwrap();
        h.append(name, HeaderValue::from_bytes(&v.0).unwrap());
    }
    (req, pulled)
}

/// Sends the case in a task of its own, so a panic in the app is a failed case, not an abort.
async fn send(app: &App, case: &Case) -> Result<Answer, String> {
    let (req, pulled) = request(case);
    let app = app.clone();
    let task = tokio::spawn(async move {
        let res = app.oneshot(req).await.unwrap();
        let (parts, body) = res.into_parts();
        (parts, axum::body::to_bytes(body, 64 << 20).await)
    });
    match task.await {
        Ok((parts, Ok(body))) => Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body: body.to_vec(),
            pulled: pulled.map(|p| p.load(Ordering::Relaxed)),
        }),
        Ok((_, Err(e))) => Err(format!("response body unreadable or over 64 MiB: {e}")),
        Err(e) => Err(format!("the app panicked: {e}")),
    }
}

/// The compat route `/`: any path made only of slashes, plain or `%2F`.
fn is_root(path: &str) -> bool {
    path.to_ascii_lowercase()
        .replace("%2f", "/")
        .bytes()
        .all(|b| b == b'/')
}

fn check(case: &Case, a: &Answer) -> Result<(), TestCaseError> {
    let (s, text) = (a.status, String::from_utf8_lossy(&a.body));
    let uri = Uri::try_from(&case.uri.0[..]).unwrap();
    let (path, head) = (uri.path(), case.method == "HEAD");
    let root = is_root(path);
    let (_, limit) = app_of(case);
    prop_assert!(s.is_success() || s.is_client_error(), "status {s}: {text}");

    // Authentication.
    if s == StatusCode::UNAUTHORIZED {
        let challenges: Vec<_> = a.headers.get_all(header::WWW_AUTHENTICATE).iter().collect();
        prop_assert_eq!(challenges, vec![api::auth::WWW_AUTHENTICATE]);
    }
    // Open to all: health checks, and OPTIONS on `/` (Werkzeug answers it before the view).
    let open = matches!(path, "/status" | "/healthz") || (root && case.method == "OPTIONS");
    if !open && case.authorized == Some(false) {
        prop_assert!(!s.is_success(), "{s} without the token: {text}");
    }
    if case.authorized == Some(true) {
        prop_assert_ne!(
            s,
            StatusCode::UNAUTHORIZED,
            "the token was refused: {}",
            text
        );
    }
    if s == StatusCode::METHOD_NOT_ALLOWED {
        let allow = a.headers.get(header::ALLOW).and_then(|v| v.to_str().ok());
        prop_assert!(allow.is_some_and(|m| !m.is_empty()), "405 without Allow");
    }
    if s == StatusCode::TOO_MANY_REQUESTS {
        let wait = a
            .headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok());
        prop_assert!(
            wait.and_then(|w| w.parse::<u64>().ok())
                .is_some_and(|w| w >= 1)
        );
    }

    // JSON routes answer JSON: errors with a code and a message.
    let text_ok = s.is_success() && path == "/metrics";
    if !root && !head && s != StatusCode::NO_CONTENT && !text_ok {
        let ct = a.headers.get(header::CONTENT_TYPE);
        prop_assert_eq!(ct.and_then(|v| v.to_str().ok()), Some("application/json"));
        let v: Value = serde_json::from_slice(&a.body)
            .map_err(|e| TestCaseError::fail(format!("{s}, not JSON ({e}): {text}")))?;
        if s.is_client_error() {
            prop_assert!(v["error"].is_string(), "{}", v);
            prop_assert!(
                v["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{}",
                v
            );
        }
    }

    // Bounded answers: a page never exceeds its limit; errors quote the request at most.
    let endpoint = case.endpoint.map(|e| ENDPOINTS[e]);
    let len = a.body.len();
    match path {
        "/list" | "/v1/payments" if case.method == "GET" && s.is_success() => {
            // The query's limit when it was drawn for this route, else the largest page.
            let cap = if endpoint.is_some() {
                case.list_cap
            } else {
                1000
            };
            let v: Value = serde_json::from_slice(&a.body).unwrap();
            let page = if path == "/list" { &v } else { &v["payments"] };
            let n = page.as_array().map_or(usize::MAX, Vec::len);
            prop_assert!(n <= cap, "{} payments, limit {}", n, cap);
            prop_assert!(len <= cap * (limit + 512) + 1024, "{len} bytes");
        }
        // Label cardinality is bounded by routes × methods × statuses.
        _ if matches!(path, "/metrics" | "/openapi.json") => prop_assert!(len <= 8 << 20),
        _ => {
            let quoted = case.uri.0.len() + case.body.len().min(limit);
            prop_assert!(len <= (16 << 10) + 8 * quoted, "{len} bytes: {:.300}", text);
        }
    }

    // A body over the limit never reaches a handler, and is not read beyond the limit.
    if let Some((_, _, shape)) = endpoint
        && shape != Shape::Nothing
        && case.body.len() > limit
    {
        prop_assert!(!s.is_success(), "{s} for a {} byte body", case.body.len());
    }
    if let (Some(pulled), BodySpec::Stream { chunk, .. }) = (a.pulled, &case.body) {
        prop_assert!(pulled <= limit + chunk, "read {pulled} bytes of a stream");
    }
    Ok(())
}

#[test]
fn hostile_requests_get_bounded_4xx_never_5xx() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let apps = rt.block_on(apps());
    let seen = Mutex::new(BTreeMap::<u16, u32>::new());
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 4096,
        ..Config::default()
    });
    let started = std::time::Instant::now();
    let result = runner.run(&strategies::case(), |case| {
        let answer = rt
            .block_on(send(&apps[app_of(&case).0], &case))
            .map_err(TestCaseError::fail)?;
        *seen
            .lock()
            .unwrap()
            .entry(answer.status.as_u16())
            .or_default() += 1;
        check(&case, &answer)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let seen = seen.into_inner().unwrap();
    eprintln!("{} cases in {:?}: {seen:?}", cases(), started.elapsed());
    // The generators reach every kind of answer (each expected ≥ 15 times at 3000 cases).
    if cases() >= DEFAULT_CASES {
        for status in [200, 201, 204, 400, 401, 404, 405, 413, 415, 422, 429] {
            assert!(seen.contains_key(&status), "no {status} seen: {seen:?}");
        }
    }
}

/// Regression: `data` was stored at any depth (100k levels), so pages holding it were beyond
/// serde_json's recursion limit (128), Ruby's (100) and the API's own client's.
#[tokio::test]
async fn data_nested_beyond_64_levels_is_refused() {
    let app = api::app::build(tokens(), sqlite_store().await, NO_LIMIT, BIG_BODY);
    let data = |depth: usize| {
        let (open, close) = ("[".repeat(depth - 1), "]".repeat(depth - 1));
        format!(r#"{{"data":{{"a":{open}{close}}},"payment":1}}"#)
    };
    for depth in [65, 1000, 100_000] {
        Req::new("POST", "/v1/payments")
            .authed()
            .raw_body("application/json", data(depth))
            .send(&app)
            .await
            .assert_error(422, "invalid_body");
    }
    let res = Req::new("POST", "/create")
        .authed()
        .raw_body(
            "application/json",
            data(api::payments::model::MAX_DATA_DEPTH),
        )
        .send(&app)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    for page in ["/list", "/v1/payments"] {
        // `json()` parses with serde_json's default recursion limit.
        let v = Req::get(page).authed().send(&app).await.json();
        assert!(v.is_array() || v["payments"].is_array(), "{page}: {v}");
    }
}

/// This process's peak or current resident set in bytes (Linux), from /proc/self/status.
fn vm_bytes(field: &str) -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: usize = line[field.len() + 1..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib << 10)
}

const MEMORY_CHILD: &str = "API_FUZZ_MEMORY_CHILD";

#[test]
fn streamed_64_mib_bodies_are_refused_without_buffering() {
    // Runs in a fresh process so its peak RSS (VmHWM) owes nothing to the other tests.
    if std::env::var_os(MEMORY_CHILD).is_none() {
        let name = "streamed_64_mib_bodies_are_refused_without_buffering";
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([name, "--exact", "--nocapture", "--test-threads=1"])
            .env(MEMORY_CHILD, "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "{stdout}{stderr}"
        );
        eprint!("{stderr}");
        return;
    }
    const LIMIT: usize = 64 << 10; // the production default
    const CHUNK: usize = 16 << 10;
    const TOTAL: usize = 64 << 20;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let app = api::app::build(tokens(), sqlite_store().await, NO_LIMIT, LIMIT);
        let id = create(&app, "1.00").await;
        let base = vm_bytes("VmHWM");
        let (update, item) = (format!("/update/{id}"), format!("/v1/payments/{id}"));
        for (method, path, token, content_type, expect) in [
            ("POST", "/create", TOKEN, "application/json", 413),
            ("PUT", &*update, TOKEN, "application/json", 413),
            ("POST", "/v1/payments", PREVIOUS, "application/json", 413),
            ("PATCH", &*item, TOKEN, "application/merge-patch+json", 413),
            ("POST", "/v1/payments", "wrong", "application/json", 401),
            ("POST", "/v1/payments", TOKEN, "text/plain", 415),
            ("POST", "/status", TOKEN, "application/json", 405),
            ("GET", "/list", TOKEN, "application/json", 200),
            ("GET", "/", TOKEN, "", 200),
        ] {
            let pulled = Arc::new(AtomicUsize::new(0));
            let body = Chunks {
                chunk: CHUNK,
                left: TOTAL / CHUNK,
                fail: false,
                pulled: pulled.clone(),
            };
            let res = Req::new(method, path)
                .token(token)
                .raw_body(content_type, Body::new(body))
                .send(&app)
                .await;
            if expect == 413 {
                res.assert_error(413, "payload_too_large");
            }
            assert_eq!(res.status, expect, "{method} {path}");
            let pulled = pulled.load(Ordering::Relaxed);
            assert!(
                pulled <= LIMIT + CHUNK,
                "{method} {path} read {pulled} bytes"
            );
        }
        match (base, vm_bytes("VmHWM")) {
            (Some(base), Some(peak)) => {
                let grew = peak.saturating_sub(base);
                eprintln!(
                    "peak RSS grew by {} KiB over 9 streamed 64 MiB bodies",
                    grew >> 10
                );
                assert!(grew < 24 << 20, "peak RSS grew by {grew} bytes");
            }
            _ => eprintln!("no /proc/self/status: peak RSS not checked"),
        }
    });
}

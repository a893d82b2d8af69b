//! A real (in-memory) users API on 127.0.0.1:0 that follows the contract web relies on, the
//! web app built against it, and small helpers to call it and read its pages.
#![allow(dead_code)] // each test file uses part of it

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing;
use serde_json::{Value, json};
use tower::ServiceExt;
use web::app::App;

/// How the fake answers: normally, 503 with an error body, or 200 with garbage.
#[allow(dead_code)]
pub const NORMAL: u8 = 0;
pub const DOWN_503: u8 = 1;
pub const GARBAGE: u8 = 2;

#[derive(Default)]
pub struct Fake {
    pub users: Mutex<BTreeMap<u64, String>>,
    /// Calls that could change something (POST, PUT, DELETE).
    pub writes: AtomicUsize,
    pub delay_ms: AtomicU64,
    pub mode: AtomicU8,
}

impl Fake {
    pub fn seed(&self, users: &[(u64, &str)]) {
        let mut all = self.users.lock().unwrap();
        for (id, name) in users {
            all.insert(*id, name.to_string());
        }
    }

    pub fn name_of(&self, id: u64) -> Option<String> {
        self.users.lock().unwrap().get(&id).cloned()
    }
}

fn json_res(status: u16, v: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap();
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

fn error(status: u16, code: &str, message: String) -> Response {
    json_res(status, json!({ "error": code, "message": message }))
}

async fn gate(f: &Fake) -> Option<Response> {
    let ms = f.delay_ms.load(SeqCst);
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    match f.mode.load(SeqCst) {
        DOWN_503 => Some(error(
            503,
            "storage_unavailable",
            "the database is unavailable".into(),
        )),
        GARBAGE => Some("<html>oops</html>".into_response()),
        _ => None,
    }
}

type Shared = State<Arc<Fake>>;

async fn list(State(f): Shared, Query(q): Query<HashMap<String, String>>) -> Response {
    if let Some(res) = gate(&f).await {
        return res;
    }
    let after: u64 = q.get("after").map_or(0, |a| a.parse().unwrap());
    let limit: usize = q.get("limit").map_or(100, |l| l.parse().unwrap());
    assert!((1..=1000).contains(&limit), "limit {limit}");
    let users: Vec<Value> = f
        .users
        .lock()
        .unwrap()
        .range(after + 1..)
        .take(limit)
        .map(|(id, name)| json!({ "id": id, "name": name }))
        .collect();
    json_res(200, json!({ "users": users }))
}

/// The trimmed name of a body, if it follows the rules (the fake checks only emptiness).
fn name_of(v: &Value) -> Option<String> {
    let name = v["name"].as_str().map(str::trim)?;
    (!name.is_empty() && name.chars().count() <= 100).then(|| name.to_owned())
}

fn bad_name() -> Response {
    error(422, "invalid_body", "name must not be empty".into())
}

async fn create(State(f): Shared, body: Bytes) -> Response {
    if let Some(res) = gate(&f).await {
        return res;
    }
    f.writes.fetch_add(1, SeqCst);
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return error(400, "bad_request", "the body is not JSON".into());
    };
    let Some(id) = v["id"].as_u64().filter(|id| *id > 0) else {
        return error(422, "invalid_body", "id must be a positive integer".into());
    };
    let Some(name) = name_of(&v) else {
        return bad_name();
    };
    let mut users = f.users.lock().unwrap();
    if users.contains_key(&id) {
        return error(
            409,
            "conflict",
            format!("a user with id {id} already exists"),
        );
    }
    users.insert(id, name.clone());
    json_res(201, json!({ "id": id, "name": name }))
}

async fn one(State(f): Shared, Path(id): Path<u64>) -> Response {
    if let Some(res) = gate(&f).await {
        return res;
    }
    match f.name_of(id) {
        Some(name) => json_res(200, json!({ "id": id, "name": name })),
        None => error(404, "not_found", format!("no user with id {id}")),
    }
}

async fn rename(State(f): Shared, Path(id): Path<u64>, body: Bytes) -> Response {
    if let Some(res) = gate(&f).await {
        return res;
    }
    f.writes.fetch_add(1, SeqCst);
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let Some(name) = name_of(&v) else {
        return bad_name();
    };
    match f.users.lock().unwrap().get_mut(&id) {
        Some(old) => {
            *old = name.clone();
            json_res(200, json!({ "id": id, "name": name }))
        }
        None => error(404, "not_found", format!("no user with id {id}")),
    }
}

async fn remove(State(f): Shared, Path(id): Path<u64>) -> Response {
    if let Some(res) = gate(&f).await {
        return res;
    }
    f.writes.fetch_add(1, SeqCst);
    match f.users.lock().unwrap().remove(&id) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => error(404, "not_found", format!("no user with id {id}")),
    }
}

/// The fake users API, listening; its base URL.
pub async fn fake_users() -> (Arc<Fake>, String) {
    let fake = Arc::new(Fake::default());
    let router = Router::new()
        .route("/users", routing::get(list).post(create))
        .route("/users/{id}", routing::get(one).put(rename).delete(remove))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (fake, url)
}

/// A URL where nothing listens (a port just released).
pub fn closed_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", l.local_addr().unwrap())
}

/// web against `users_url`, configured as from the environment.
pub fn web(users_url: &str, timeout_secs: u64) -> App {
    let timeout = timeout_secs.to_string();
    let config = web::config::Config::from_lookup(|k| match k {
        "USERS_URL" => Some(users_url.to_owned()),
        "USERS_TIMEOUT_SECS" => Some(timeout.clone()),
        _ => None,
    })
    .unwrap();
    web::app::build(&config)
}

/// web with the fake users API, seeded.
pub async fn with_users(users: &[(u64, &str)]) -> (App, Arc<Fake>) {
    let (fake, url) = fake_users().await;
    fake.seed(users);
    (web(&url, 5), fake)
}

pub struct Res {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Res {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }

    /// The alert region contains `text`.
    pub fn assert_alert(&self, text: &str) {
        assert!(
            self.region("alert").contains(text),
            "no {text:?} alert in\n{}",
            self.body
        );
    }

    /// The text of the `role=…` region (up to its closing `</div>`), or "".
    pub fn region(&self, role: &str) -> &str {
        let Some(start) = self.body.find(&format!("role=\"{role}\"")) else {
            return "";
        };
        let rest = &self.body[start..];
        &rest[..rest.find("</div>").unwrap()]
    }
}

pub async fn send(app: &App, method: &str, path: &str, body: impl Into<Body>) -> Res {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body.into())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
        .await
        .unwrap();
    let body = String::from_utf8(bytes.to_vec()).unwrap();
    Res {
        status,
        headers,
        body,
    }
}

pub async fn get(app: &App, path: &str) -> Res {
    send(app, "GET", path, Body::empty()).await
}

pub async fn post(app: &App, path: &str, fields: &[(&str, &str)]) -> Res {
    send(app, "POST", path, form(fields)).await
}

/// `application/x-www-form-urlencoded`, as a browser sends it.
pub fn form(fields: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        let mut out = String::new();
        for b in s.bytes() {
            match b {
                b' ' => out.push('+'),
                b if b.is_ascii_alphanumeric() || b"-._*".contains(&b) => out.push(char::from(b)),
                b => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    };
    let pairs: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    pairs.join("&")
}

/// The value of `name="…"` in a tag's text.
pub fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(&tag[start..start + tag[start..].find('"')?])
}

/// Every `<input` has an id and a `<label for=` that id; how many inputs there are.
pub fn assert_labelled(html: &str) -> usize {
    let mut inputs = 0;
    for chunk in html.split("<input").skip(1) {
        let tag = &chunk[..chunk.find('>').unwrap()];
        let id = attr(tag, "id").unwrap_or_else(|| panic!("an input without id: {tag}"));
        assert!(
            html.contains(&format!("<label for=\"{id}\">")),
            "no label for #{id} in\n{html}"
        );
        inputs += 1;
    }
    inputs
}

/// The `value` of the input `#id`.
pub fn value_of<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<input id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let tag = &html[start..start + html[start..].find('>').unwrap()];
    attr(tag, "value").unwrap_or("")
}

//! Property tests with hostile input: whatever a client sends, the answer is never a 5xx,
//! every error is a JSON body with a code and a message, and what is accepted is stored as
//! the rules say (trimmed, 1 to 100 characters, IDs 1 to 2^53 - 1).

mod common;

use axum::http::Method;
use common::{app, send};
use proptest::prelude::*;
use serde_json::{Value, json};
use users::app::App;
use users::model::{MAX_ID, MAX_NAME};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// An app on a fresh in-memory SQLite, with the runtime that must drive it.
fn fresh() -> (tokio::runtime::Runtime, App) {
    let rt = runtime();
    let app = rt.block_on(async { app(common::sqlite_store().await) });
    (rt, app)
}

/// Any JSON value, nested a little, strings with control and non-ASCII characters included.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,120}".prop_map(Value::from),
        "[\\x00-\\x1f\u{7f}\u{feff}\u{202e} a]{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::hash_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A body shaped like a user, its fields anything.
fn user_like() -> impl Strategy<Value = Value> {
    (any_json(), any_json(), prop::option::of(any_json())).prop_map(|(id, name, extra)| {
        let mut v = json!({"id": id, "name": name});
        if let Some(extra) = extra {
            v["extra"] = extra;
        }
        v
    })
}

fn method() -> impl Strategy<Value = Method> {
    prop::sample::select(vec![
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::HEAD,
        Method::OPTIONS,
    ])
}

/// Paths near the real ones, with hostile ID segments (percent-encoded where needed).
fn path() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        "[0-9]{15,25}",
        "[-+.0-9a-z%]{0,12}",
        "(%[0-9A-F]{2}){1,6}",
    ];
    prop_oneof![
        Just("/users".to_owned()),
        segment.prop_map(|s| format!("/users/{s}")),
        "/[a-z/]{0,20}",
        "/users\\?(after|limit|x)=[-0-9a-z]{0,22}",
    ]
}

/// Never a 5xx; an error is JSON with a code and a message (HEAD answers have no body).
fn check(method: &Method, res: &common::Res) -> Result<(), TestCaseError> {
    prop_assert!(
        res.status.as_u16() < 500,
        "{}: {}",
        res.status,
        String::from_utf8_lossy(&res.body)
    );
    if res.status.as_u16() >= 400 && method != Method::HEAD {
        let v = res.json();
        prop_assert!(v["error"].is_string() && v["message"].is_string(), "{v}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn hostile_requests_get_4xx_json(
        method in method(),
        path in path(),
        body in prop_oneof![
            user_like().prop_map(|v| v.to_string().into_bytes()),
            prop::collection::vec(any::<u8>(), 0..200),
        ],
        content_type in prop::sample::select(vec!["application/json", "text/plain", "application/x+json"]),
    ) {
        let (rt, app) = fresh();
        let res = rt.block_on(send(&app, method.clone(), &path, Some((content_type, body))));
        check(&method, &res)?;
    }

    #[test]
    fn accepted_users_follow_the_rules(id in any::<i64>(), name in ".{0,110}", padding in " {0,3}") {
        let (rt, app) = fresh();
        let sent = format!("{padding}{name}{padding}");
        let res = rt.block_on(common::json(&app, Method::POST, "/users", json!({"id": id, "name": sent})));
        check(&Method::POST, &res)?;
        let trimmed = sent.trim();
        let valid = (1..=MAX_ID).contains(&id)
            && (1..=MAX_NAME).contains(&trimmed.chars().count())
            && !trimmed.chars().any(char::is_control);
        prop_assert_eq!(res.status.as_u16() == 201, valid, "{}", String::from_utf8_lossy(&res.body));
        if valid {
            let got = rt.block_on(send(&app, Method::GET, &format!("/users/{id}"), None));
            prop_assert_eq!(got.json(), json!({"id": id, "name": trimmed}));
        }
    }
}

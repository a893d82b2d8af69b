//! `/` behaves exactly like the original Flask 0.12 + Flask-HTTPAuth 3.2.3 app (as probed under
//! gunicorn and the Werkzeug 0.16 dev server; see scripts/bench/flask_app.py).

mod common;

use api::index::{ALLOW, BODY, METHOD_NOT_ALLOWED, UNAUTHORIZED};
use common::*;

#[track_caller]
fn assert_ok(res: &Res) {
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), BODY);
    assert_eq!(content_type(res), Some("text/html; charset=utf-8"));
}

#[track_caller]
fn assert_unauthorized(res: &Res) {
    assert_eq!(res.status, 401);
    assert_eq!(res.text(), UNAUTHORIZED);
    assert_eq!(content_type(res), Some("text/html; charset=utf-8"));
    assert_eq!(
        res.header("www-authenticate"),
        Some("Token realm=\"Authentication Required\"")
    );
}

#[tokio::test]
async fn valid_token_gets_the_greeting() {
    let app = sqlite_app().await;
    let res = Req::get("/").authed().send(&app).await;
    assert_ok(&res);
    assert_eq!(res.header("content-length"), Some("27"));
}

#[tokio::test]
async fn missing_wrong_or_malformed_credentials_get_401() {
    let app = sqlite_app().await;
    assert_unauthorized(&Req::get("/").send(&app).await);
    let bad: &[&[u8]] = &[
        b"Token wrong",
        b"Token",
        b"Token   ",
        b"",
        b"Bearer current-token-0123456789",
        b"current-token-0123456789",
        b"Tokencurrent-token-0123456789",
        b"Token CURRENT-TOKEN-0123456789",
        b"Token current-token-0123456789 extra",
        b"Token current-token-0123456789 ",
        b"Basic dXNlcjpjdXJyZW50LXRva2VuLTAxMjM0NTY3ODk=",
        b"Digest username=\"current-token-0123456789\"",
    ];
    for value in bad {
        let res = Req::get("/")
            .header("authorization", value)
            .send(&app)
            .await;
        assert_unauthorized(&res);
    }
}

#[tokio::test]
async fn header_is_split_on_python_whitespace_and_scheme_is_case_insensitive() {
    let app = sqlite_app().await;
    let good: &[&[u8]] = &[
        b"token current-token-0123456789",
        b"TOKEN current-token-0123456789",
        b"Token    current-token-0123456789",
        b"Token\tcurrent-token-0123456789",
        b"\t Token current-token-0123456789",
        // Latin-1 NBSP and NEL are whitespace to Python's str.split().
        b"Token\xa0current-token-0123456789",
        b"Token\x85current-token-0123456789",
    ];
    for value in good {
        assert_ok(
            &Req::get("/")
                .header("authorization", value)
                .send(&app)
                .await,
        );
    }
}

#[tokio::test]
async fn repeated_authorization_headers_are_joined_like_wsgi() {
    let app = sqlite_app().await;
    let res = Req::get("/")
        .authed()
        .header("authorization", "Token other")
        .send(&app)
        .await;
    assert_unauthorized(&res);
    let res = Req::get("/")
        .header("authorization", "Token other")
        .authed()
        .send(&app)
        .await;
    assert_unauthorized(&res);
}

#[tokio::test]
async fn rotation_accepts_the_previous_token_until_it_is_dropped() {
    let app = sqlite_app().await;
    assert_ok(&Req::get("/").token(PREVIOUS).send(&app).await);
    assert_ok(&Req::get("/").token(TOKEN).send(&app).await);
    let after = api::app::build(
        api::auth::Tokens::new(Some(TOKEN), None).unwrap(),
        sqlite_store().await,
        NO_LIMIT,
        MAX_BODY,
    );
    assert_unauthorized(&Req::get("/").token(PREVIOUS).send(&after).await);
    assert_ok(&Req::get("/").token(TOKEN).send(&after).await);
}

#[tokio::test]
async fn head_runs_the_view_with_auth_and_drops_the_body() {
    let app = sqlite_app().await;
    let res = Req::new("HEAD", "/").authed().send(&app).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-length"), Some("27"));
    assert!(res.body.is_empty());
    let res = Req::new("HEAD", "/").send(&app).await;
    assert_eq!(res.status, 401);
    assert_eq!(res.header("content-length"), Some("19"));
    assert!(res.header("www-authenticate").is_some());
    assert!(res.body.is_empty());
}

#[tokio::test]
async fn options_is_answered_without_auth() {
    let app = sqlite_app().await;
    for req in [
        Req::new("OPTIONS", "/"),
        Req::new("OPTIONS", "/").token("wrong"),
    ] {
        let res = req.send(&app).await;
        assert_eq!(res.status, 200);
        assert_eq!(res.header("allow"), Some(ALLOW));
        assert_eq!(content_type(&res), Some("text/html; charset=utf-8"));
        assert!(res.body.is_empty());
    }
}

#[tokio::test]
async fn other_methods_get_werkzeugs_405_before_auth() {
    let app = sqlite_app().await;
    for method in ["POST", "PUT", "PATCH", "DELETE", "TRACE", "BREW"] {
        for req in [Req::new(method, "/"), Req::new(method, "/").authed()] {
            let res = req.send(&app).await;
            assert_eq!(res.status, 405, "{method}");
            assert_eq!(res.header("allow"), Some(ALLOW));
            assert_eq!(content_type(&res), Some("text/html"));
            assert_eq!(res.text(), METHOD_NOT_ALLOWED);
            assert_eq!(res.body.len(), 178);
        }
    }
}

#[tokio::test]
async fn slash_only_paths_and_query_strings_reach_the_index() {
    let app = sqlite_app().await;
    for uri in ["/?a=1", "//", "///", "/%2F", "/%2f", "/%2F%2F", "//?x=1"] {
        assert_ok(&Req::get(uri).authed().send(&app).await);
        assert_unauthorized(&Req::get(uri).send(&app).await);
    }
    // Raw UTF-8 (hyper lets it through) where a `%2F` could start: once a panic, no answer.
    for uri in [
        "/index",
        "/./",
        "/%20",
        "/a/..",
        "/.\u{c79}",
        "//\u{10780}",
        "/%2F\u{e9}",
    ] {
        Req::get(uri)
            .authed()
            .send(&app)
            .await
            .assert_error(404, "not_found");
    }
}

#[tokio::test]
async fn a_body_on_get_is_ignored() {
    let app = sqlite_app().await;
    assert_ok(
        &Req::get("/")
            .authed()
            .raw_body("text/plain", "hello")
            .send(&app)
            .await,
    );
}

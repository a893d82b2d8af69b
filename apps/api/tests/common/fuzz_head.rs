//! Hostile request heads for tests/fuzz.rs: paths, query strings, Authorization and other
//! headers.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

use crate::common::{PREVIOUS, TOKEN};

/// Bytes a `HeaderValue` accepts: visible ASCII, space, tab, obs-text.
fn header_bytes(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), len).prop_map(|v| {
        v.into_iter()
            .filter(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
            .collect()
    })
}

/// Python's whitespace, as Flask-HTTPAuth splits on it.
fn ws(min: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(select(vec![b' ', b'\t', 0xa0, 0x85]), min..min + 3)
}

fn token() -> impl Strategy<Value = &'static str> {
    select(vec![TOKEN, PREVIOUS])
}

fn wrong_credentials() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        token().prop_map(|t| t.to_uppercase().into_bytes()),
        (token(), 0..24usize).prop_map(|(t, n)| t.as_bytes()[..n].to_vec()),
        (token(), ws(1), header_bytes(0..8)).prop_map(|(t, w, s)| [t.as_bytes(), &w, &s].concat()),
        (header_bytes(1..4), token()).prop_map(|(p, t)| [&p, t.as_bytes()].concat()),
        "[!-~]{1,40}".prop_map(String::into_bytes),
    ]
    .prop_filter("an accepted token", |c| {
        // Flask-HTTPAuth skips whitespace before the credentials.
        let start = c.iter().position(|b| !py_space(*b)).unwrap_or(c.len());
        c[start..] != *TOKEN.as_bytes() && c[start..] != *PREVIOUS.as_bytes()
    })
}

fn py_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | 0x85 | 0xa0)
}

/// One Authorization value and whether it is accepted (None: unknowable).
fn auth_value() -> impl Strategy<Value = (Vec<u8>, Option<bool>)> {
    let scheme = select(vec!["Token", "token", "TOKEN", "tOkEn"]);
    prop_oneof![
        12 => (ws(0), scheme.clone(), ws(1), token())
            .prop_map(|(l, s, w, t)| ([&l, s.as_bytes(), &w, t.as_bytes()].concat(), Some(true))),
        1 => (select(vec!["Bearer", "Basic", "Tokens", "Tok", "Token:"]), ws(1), token())
            .prop_map(|(s, w, t)| ([s.as_bytes(), &w, t.as_bytes()].concat(), Some(false))),
        1 => (select(vec!["Token", ""]), token())
            .prop_map(|(s, t)| (format!("{s}{t}").into_bytes(), Some(false))),
        2 => (scheme, ws(1), wrong_credentials())
            .prop_map(|(s, w, c)| ([s.as_bytes(), &w, &c].concat(), Some(false))),
        1 => Just((Vec::new(), Some(false))),
        1 => header_bytes(0..256).prop_map(|v| {
            let hit = |t: &str| v.windows(t.len()).any(|w| w == t.as_bytes());
            let known = !hit(TOKEN) && !hit(PREVIOUS);
            (v, known.then_some(false))
        }),
        1 => (token(), 8usize << 10..256 << 10)
            .prop_map(|(t, n)| (format!("Token {t}{}", "a".repeat(n)).into_bytes(), Some(false))),
    ]
}

/// The Authorization headers (none, one or several) and whether they are accepted.
pub fn auth() -> impl Strategy<Value = (Vec<Vec<u8>>, Option<bool>)> {
    prop_oneof![
        1 => Just((Vec::new(), Some(false))),
        8 => auth_value().prop_map(|(v, ok)| (vec![v], ok)),
        // Joined with commas like WSGI does: never an accepted token (tokens have no comma).
        1 => vec(auth_value(), 2..4).prop_map(|vs| (vs.into_iter().map(|v| v.0).collect(), Some(false))),
    ]
}

pub fn content_type() -> impl Strategy<Value = Option<Vec<u8>>> {
    let odd = vec![
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/merge-patch+json",
        " application/json ",
        "application/jsonx",
        "application/+json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
    ];
    prop_oneof![
        8 => Just(Some(b"application/json".to_vec())),
        2 => select(odd).prop_map(|s| Some(s.as_bytes().to_vec())),
        1 => header_bytes(0..64).prop_map(Some),
        1 => Just(None),
    ]
}

pub fn extra_headers() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    let names = vec![
        "x-forwarded-for",
        "content-length",
        "transfer-encoding",
        "expect",
        "host",
        "accept",
        "cookie",
    ];
    let name = prop_oneof![
        select(names).prop_map(String::from),
        "[a-z][a-z0-9-]{0,30}".prop_filter("auth headers are generated apart", |n| {
            n != "authorization" && n != "content-type"
        }),
    ];
    let addr = vec![
        "1.2.3.4",
        "::1",
        "1.2.3.4, 5.6.7.8",
        "999.1.1.1",
        "unknown",
        "",
    ];
    let value = prop_oneof![
        select(addr).prop_map(|s| s.as_bytes().to_vec()),
        header_bytes(0..128),
    ];
    vec((name, value), 0..4)
}

fn id() -> impl Strategy<Value = String> {
    let odd = vec![
        "0",
        "-0",
        "-1",
        "+1",
        "01",
        "1.0",
        "1e3",
        "0x10",
        "%201",
        "1%20",
        "",
        "%",
        "%zz",
        "%00",
        "%2F",
        "%FF%FE",
        "%31",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "１",
        "٣",
    ];
    prop_oneof![
        4 => (1i64..1300).prop_map(|n| n.to_string()),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => "[0-9]{19,60}",
        2 => select(odd).prop_map(String::from),
        1 => "\\PC{1,12}",
        1 => "(%[0-9A-Fa-f]{2}){1,12}",
    ]
}

/// A path for the endpoint's template, and whether it still is that endpoint's path.
pub fn path(template: &'static str) -> impl Strategy<Value = (String, bool)> {
    let suffix = prop_oneof![
        select(vec![
            "/", "/x", "/../list", "/%2e%2e/", "//", ";x", "/ü", "%00", "/1/2"
        ])
        .prop_map(String::from),
        "/\\PC{1,10}",
    ];
    let root = vec!["//", "/%2F", "/%2f/", "///", "/%2F%2f", "/%2"];
    let odd = vec![
        "*",
        "http://example.com/list",
        "https://h:1/v1/payments/1",
        "/v1/payments?",
        "/v1//payments",
        "/V1/PAYMENTS",
        "/list%00",
    ];
    let fill = select(vec!["a", "9", "%FF", "x/", "ü", "/"]);
    prop_oneof![
        30 => id().prop_map(move |id| (template.replace("{id}", &id), true)),
        2 => (id(), suffix).prop_map(move |(id, s)| (template.replace("{id}", &id) + &s, false)),
        1 => "/[ -~]{0,60}".prop_map(|p| (p, false)),
        1 => vec(any::<u8>(), 0..60).prop_map(|v| (encode(&v, true), false)),
        1 => (fill, 1usize..40_000).prop_map(|(f, n)| (format!("/v1/payments/{}", f.repeat(n)), false)),
        1 => select(root).prop_map(|p| (p.to_string(), false)),
        1 => select(odd).prop_map(|p| (p.to_string(), false)),
    ]
}

/// A query string and the page size a list may answer with.
pub fn query() -> impl Strategy<Value = (String, usize)> {
    let bad = vec![
        "0",
        "-1",
        "4294967296",
        "99999999999999999999",
        "abc",
        "1.5",
        "",
        "1001",
    ];
    let odd = vec![
        "?limit=1&limit=2",
        "?after=-9223372036854775808",
        "?after=9223372036854775808",
        "?x=1",
        "?%FF=1",
        "?limit",
        "?&&&",
        "?after=%00",
        "?after=1&limit=1000",
    ];
    prop_oneof![
        3 => Just((String::new(), 100)),
        3 => (1usize..=1200).prop_map(|n| (format!("?limit={n}"), n.min(1000))),
        1 => (any::<i64>(), 1usize..=1000)
            .prop_map(|(a, n)| (format!("?after={a}&limit={n}"), n)),
        1 => select(bad).prop_map(|v| (format!("?limit={v}"), 100)),
        1 => select(odd).prop_map(|q| (q.to_string(), 1000)),
    ]
}

/// Percent-encodes what a URI cannot carry raw (all of it when `all`).
fn encode(bytes: &[u8], all: bool) -> String {
    let mut out = String::from(if all { "/" } else { "" });
    for &b in bytes {
        if !all && b.is_ascii_graphic() && !b"\"<>\\^`{|}#".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The URI as given if `http` parses it, else with the offending bytes percent-encoded.
pub fn uri(raw: String) -> Vec<u8> {
    if raw.parse::<axum::http::Uri>().is_ok() {
        return raw.into_bytes();
    }
    let encoded = encode(raw.as_bytes(), false);
    match encoded.parse::<axum::http::Uri>() {
        Ok(_) => encoded.into_bytes(),
        Err(_) => b"/%25".to_vec(),
    }
}

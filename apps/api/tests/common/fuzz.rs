//! Hostile requests for tests/fuzz.rs: the case type, methods and bodies (heads: fuzz_head.rs).

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use http_body::Frame;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Number, Value};

use crate::head::{auth, content_type, extra_headers, path, query, uri};

/// What a route reads from the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Nothing,
    NewPayment,
    Status,
}

/// Every route and method the app serves.
pub const ENDPOINTS: &[(&str, &str, Shape)] = &[
    ("/", "GET", Shape::Nothing),
    ("/", "HEAD", Shape::Nothing),
    ("/", "OPTIONS", Shape::Nothing),
    ("/status", "GET", Shape::Nothing),
    ("/healthz", "GET", Shape::Nothing),
    ("/create", "POST", Shape::NewPayment),
    ("/update/{id}", "PUT", Shape::Status),
    ("/list", "GET", Shape::Nothing),
    ("/delete/{id}", "DELETE", Shape::Nothing),
    ("/v1/payments", "GET", Shape::Nothing),
    ("/v1/payments", "POST", Shape::NewPayment),
    ("/v1/payments/{id}", "GET", Shape::Nothing),
    ("/v1/payments/{id}", "PATCH", Shape::Status),
    ("/v1/payments/{id}", "DELETE", Shape::Nothing),
    ("/openapi.json", "GET", Shape::Nothing),
    ("/metrics", "GET", Shape::Nothing),
];

/// Bytes shown truncated, so a failing 100 kB case stays readable.
#[derive(Clone)]
pub struct Blob(pub Vec<u8>);

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = String::from_utf8_lossy(&self.0[..self.0.len().min(160)]);
        write!(f, "{shown:?} ({} bytes)", self.0.len())
    }
}

#[derive(Clone, Debug)]
pub enum BodySpec {
    Bytes(Blob),
    /// `prefix`, `open` n times, `close` n times, `suffix`: huge or deeply nested bodies.
    Repeat {
        prefix: &'static str,
        open: &'static str,
        close: &'static str,
        n: usize,
        suffix: &'static str,
    },
    /// `chunks` fresh chunks of `chunk` bytes, no length known in advance, then maybe an error.
    Stream {
        chunk: usize,
        chunks: usize,
        fail: bool,
    },
}

impl BodySpec {
    pub fn len(&self) -> usize {
        match self {
            Self::Bytes(b) => b.0.len(),
            Self::Repeat {
                prefix,
                open,
                close,
                n,
                suffix,
            } => prefix.len() + n * (open.len() + close.len()) + suffix.len(),
            Self::Stream { chunk, chunks, .. } => chunk * chunks,
        }
    }

    /// The body, and for a stream the count of bytes the server pulled from it.
    pub fn build(&self) -> (Body, Option<Arc<AtomicUsize>>) {
        match self {
            Self::Bytes(b) => (Body::from(b.0.clone()), None),
            Self::Repeat {
                prefix,
                open,
                close,
                n,
                suffix,
            } => {
                let text = [prefix, &*open.repeat(*n), &*close.repeat(*n), suffix].concat();
                (Body::from(text), None)
            }
            Self::Stream {
                chunk,
                chunks,
                fail,
            } => {
                let pulled = Arc::new(AtomicUsize::new(0));
                let body = Chunks {
                    chunk: *chunk,
                    left: *chunks,
                    fail: *fail,
                    pulled: pulled.clone(),
                };
                (Body::new(body), Some(pulled))
            }
        }
    }
}

/// A streamed body: each chunk freshly allocated (so buffering it would show in RSS).
pub struct Chunks {
    pub chunk: usize,
    pub left: usize,
    pub fail: bool,
    pub pulled: Arc<AtomicUsize>,
}

impl HttpBody for Chunks {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if self.left == 0 {
            let end = self
                .fail
                .then(|| Err(std::io::Error::other("client went away")));
            return Poll::Ready(end);
        }
        self.left -= 1;
        self.pulled.fetch_add(self.chunk, Ordering::Relaxed);
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'['; self.chunk])))))
    }
}

#[derive(Clone, Debug)]
pub struct Case {
    /// 0..=2: small body limit; 3: large body limit; 4: rate-limited (keyed by X-Forwarded-For).
    pub app: u8,
    pub method: String,
    pub uri: Blob,
    /// Index in ENDPOINTS when the method and path are that endpoint's (the id may be junk).
    pub endpoint: Option<usize>,
    /// The page size a list may return, from the query (100 by default).
    pub list_cap: usize,
    pub auth: Vec<Blob>,
    /// Whether the Authorization headers carry an accepted token; None when unknowable.
    pub authorized: Option<bool>,
    pub content_type: Option<Blob>,
    pub headers: Vec<(String, Blob)>,
    pub body: BodySpec,
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,16}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        let key = prop_oneof![
            select(vec!["data", "payment", "status"]).prop_map(String::from),
            "\\PC{0,8}",
        ];
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            vec((key, inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn amount() -> impl Strategy<Value = String> {
    let bad = vec![
        "-0.01",
        "1e3",
        "100000",
        "1.005",
        "null",
        "\"abc\"",
        "[]",
        "{}",
        "\"\"",
        "0.1e1",
        "99999.999",
        "\"12.3.4\"",
        "18446744073709551616",
    ];
    prop_oneof![
        3 => (0i64..=9_999_999).prop_map(|c| format!("{}.{:02}", c / 100, c % 100)),
        1 => (0i64..=9_999_999).prop_map(|c| format!("\"{}.{:02}\"", c / 100, c % 100)),
        1 => (0i64..=99_999).prop_map(|n| n.to_string()),
        1 => select(bad).prop_map(String::from),
    ]
}

fn valid_body(shape: Shape) -> BoxedStrategy<Vec<u8>> {
    let statuses = vec![
        r#"{"status":"consumed"}"#,
        r#"{"status":"inserted"}"#,
        r#"{"status":"CONSUMED"}"#,
        r#"{"status":1}"#,
        r#"{"status":null}"#,
        r#"{}"#,
        r#"{"status":"consumed","x":1}"#,
        r#"{"status":"consumed"} x"#,
    ];
    match shape {
        Shape::Status => select(statuses).prop_map(|s| s.as_bytes().to_vec()).boxed(),
        _ => (json_value(), amount(), prop::bool::weighted(0.85), 0u8..8)
            .prop_map(|(data, amount, object, extra)| {
                let data = match data {
                    Value::Object(_) => data,
                    other if object => serde_json::json!({ "v": other }),
                    other => other,
                };
                let extra = if extra == 0 { r#","x":1"# } else { "" };
                format!(r#"{{"data":{data},"payment":{amount}{extra}}}"#).into_bytes()
            })
            .boxed(),
    }
}

fn body(shape: Shape) -> impl Strategy<Value = BodySpec> {
    let bytes = |s: BoxedStrategy<Vec<u8>>| s.prop_map(|b| BodySpec::Bytes(Blob(b)));
    let nested = vec![
        ("", "[", ""),
        (r#"{"data":"#, "[", ""),
        (r#"{"data":{"a":"#, "[", "]"),
        (r#"{"status":"#, r#"{"a":"#, "}"),
        (r#"{"data":{},"payment":"#, "[", "]"),
    ];
    let depth = prop_oneof![100usize..1000, 1000usize..100_000, Just(100_000)];
    let size = prop_oneof![1025usize..8192, (1usize << 20) + 1..3 << 20];
    prop_oneof![
        8 => bytes(valid_body(shape)),
        2 => bytes(json_value().prop_map(|v| v.to_string().into_bytes()).boxed()),
        1 => bytes(vec(any::<u8>(), 0..2048).boxed()),
        1 => Just(BodySpec::Bytes(Blob(Vec::new()))),
        1 => size.prop_map(|n| BodySpec::Repeat {
            prefix: r#"{"data":{"a":""#, open: "x", close: "", n, suffix: r#""},"payment":1}"#,
        }),
        1 => (select(nested), depth).prop_map(|((prefix, open, close), n)| {
            let suffix = if prefix.starts_with(r#"{"data":{"a""#) { r#"},"payment":1}"# }
                else if prefix.is_empty() { "" } else { "}" };
            BodySpec::Repeat { prefix, open, close, n, suffix }
        }),
        1 => (1usize..=65536, 0usize..64, prop::bool::weighted(0.25))
            .prop_map(|(chunk, chunks, fail)| BodySpec::Stream { chunk, chunks, fail }),
    ]
}

fn method(own: &'static str) -> impl Strategy<Value = String> {
    let known = vec![
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PROPFIND",
        "MKCOL", "LOCK", "BREW", "get", "M-SEARCH",
    ];
    prop_oneof![
        8 => Just(own.to_string()),
        3 => select(known).prop_map(String::from),
        1 => "[!#$%&'*+.^_`|~0-9A-Za-z-]{1,40}",
    ]
}

pub fn case() -> impl Strategy<Value = Case> {
    (0..ENDPOINTS.len()).prop_flat_map(|e| {
        let (template, own, shape) = ENDPOINTS[e];
        let head = (0u8..5, method(own), path(template), query(), auth());
        let rest = (content_type(), extra_headers(), body(shape));
        (head, rest).prop_map(
            move |((app, method, (path, intact), (q, cap), auth), rest)| {
                let (content_type, headers, body) = rest;
                Case {
                    app,
                    endpoint: (intact && method == own).then_some(e),
                    method,
                    uri: Blob(uri(path + &q)),
                    list_cap: cap,
                    auth: auth.0.into_iter().map(Blob).collect(),
                    authorized: auth.1,
                    content_type: content_type.map(Blob),
                    headers: headers.into_iter().map(|(n, v)| (n, Blob(v))).collect(),
                    body,
                }
            },
        )
    })
}

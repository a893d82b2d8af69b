//! At rate 0 the proxy is invisible: same status, headers and body bytes both ways.

use crate::common::{quiet, start};
use crate::moto_or_skip;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

type Seen = Arc<Mutex<Vec<(Vec<(String, Vec<u8>)>, Bytes)>>>;

/// An upstream that records requests and answers with odd bytes and headers.
async fn echo_upstream() -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen: Seen = Default::default();
    let s = seen.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let s = s.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let s = s.clone();
                    async move {
                        let headers = req
                            .headers()
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
                            .collect();
                        let body = req.into_body().collect().await?.to_bytes();
                        s.lock().unwrap().push((headers, body));
                        let payload: Vec<u8> = (0..=255u8)
                            .chain(b"<Response>\xff\xfe</Response>".iter().copied())
                            .collect();
                        Ok::<_, hyper::Error>(
                            Response::builder()
                                .status(418)
                                .header("content-type", "text/xml")
                                .header("x-amzn-requestid", "abc")
                                .header("x-custom", "k\u{e9}".as_bytes())
                                .body(Full::new(Bytes::from(payload)))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (url, seen)
}

async fn post(
    url: &str,
    headers: &[(&str, &str)],
    body: &'static [u8],
) -> (u16, Vec<(String, Vec<u8>)>, Bytes) {
    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let mut req = Request::post(format!("{url}/"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = client
        .request(req.body(Full::new(Bytes::from_static(body))).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let keep = |k: &str| {
        !matches!(
            k,
            "date"
                | "server"
                | "connection"
                | "content-length"
                | "transfer-encoding"
                | "x-amzn-requestid"
        )
    };
    let headers = resp
        .headers()
        .iter()
        .filter(|(k, _)| keep(k.as_str()))
        .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
        .collect();
    (
        status,
        headers,
        resp.into_body().collect().await.unwrap().to_bytes(),
    )
}

const AUTH: &str = "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=x";
const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_zero_is_byte_identical_with_an_echo_upstream() {
    let (upstream, seen) = echo_upstream().await;
    let proxy = start(quiet(&upstream, 5, 0.0)).await;
    let body: &'static [u8] =
        b"Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F16&X=%FF%00";
    let headers = [
        ("authorization", AUTH),
        ("content-type", FORM),
        ("x-amz-date", "20240101T000000Z"),
    ];
    let direct = post(&upstream, &headers, body).await;
    let proxied = post(&proxy.url(), &headers, body).await;
    assert_eq!(direct, proxied);
    assert_eq!(direct.0, 418);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].1, seen[1].1, "request body forwarded unchanged");
    let strip = |h: &Vec<(String, Vec<u8>)>| -> Vec<(String, Vec<u8>)> {
        h.iter().filter(|(k, _)| k != "host").cloned().collect()
    };
    assert_eq!(
        strip(&seen[0].0),
        strip(&seen[1].0),
        "request headers forwarded unchanged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_zero_is_byte_identical_with_moto() {
    let moto = moto_or_skip!();
    let proxy = start(quiet(&moto, 5, 0.0)).await;
    let headers = [("authorization", AUTH), ("content-type", FORM)];
    for body in [
        &b"Action=DescribeRegions&Version=2016-11-15"[..],
        b"Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-doesnotexist",
    ] {
        let direct = post(&moto, &headers, body).await;
        let proxied = post(&proxy.url(), &headers, body).await;
        assert_eq!(direct, proxied, "{}", String::from_utf8_lossy(body));
    }
    assert_eq!(proxy.stats().total_faults, 0);
}

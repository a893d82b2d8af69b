//! A stand-in for the AWS Price List Query API (moto has none), reached the standard way
//! (`AWS_ENDPOINT_URL_PRICING`). It serves `GetProducts` as AWS documents it: JSON 1.1
//! (`X-Amz-Target: AWSPriceListService.GetProducts`), TERM_MATCH filters on a product's
//! attributes, each product a JSON document in a string, pages of at most `MaxResults`
//! (the service may return fewer: this one returns 2, so paging is exercised). It refuses
//! what AWS refuses: a request signed for a region the API is not served in ("The AWS Price
//! List Query API provides the following two endpoints": us-east-1 and ap-south-1, AWS
//! Billing User Guide), an unknown service code, another filter type.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Request, Response};
use serde_json::{Value, json};

const API_REGIONS: &[&str] = &["us-east-1", "ap-south-1"];
const PAGE: usize = 2;

pub struct PriceList {
    pub url: String,
    /// Each request's service code and filters, in order.
    pub requests: Arc<Mutex<Vec<Value>>>,
}

/// A product as the Price List API shows it: `attributes` (usagetype, regionCode, …) and
/// one on-demand price in USD.
pub fn product(service: &str, family: &str, attributes: Value, usd: &str) -> Value {
    let sku = format!("{:016X}", rand::random::<u64>());
    let mut attributes = attributes;
    attributes["servicecode"] = json!(service);
    json!({
        "product": { "productFamily": family, "attributes": attributes, "sku": sku },
        "serviceCode": service,
        "terms": { "OnDemand": { format!("{sku}.JRTCKXETXF"): {
            "priceDimensions": { format!("{sku}.JRTCKXETXF.6YS6EN2CT7"): {
                "unit": "Hrs", "endRange": "Inf", "description": "stand-in", "appliesTo": [],
                "rateCode": format!("{sku}.JRTCKXETXF.6YS6EN2CT7"), "beginRange": "0",
                "pricePerUnit": { "USD": usd }
            }},
            "sku": sku, "effectiveDate": "2026-11-01T00:00:00Z", "offerTermCode": "JRTCKXETXF",
            "termAttributes": {}
        }}},
        "version": "20261101000000",
        "publicationDate": "2026-11-01T00:00:00Z"
    })
}

impl PriceList {
    pub async fn start(catalog: Vec<Value>) -> PriceList {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let catalog = Arc::new(catalog);
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (catalog, seen) = (catalog.clone(), seen.clone());
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let (catalog, seen) = (catalog.clone(), seen.clone());
                        async move { Ok::<_, Infallible>(answer(req, &catalog, &seen).await) }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, svc)
                        .await;
                });
            }
        });
        PriceList {
            url: format!("http://{addr}"),
            requests,
        }
    }
}

fn error(kind: &str, message: &str) -> Response<Full<Bytes>> {
    let body = json!({ "__type": kind, "message": message }).to_string();
    Response::builder()
        .status(400)
        .header("content-type", "application/x-amz-json-1.1")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

async fn answer(
    req: Request<hyper::body::Incoming>,
    catalog: &[Value],
    seen: &Mutex<Vec<Value>>,
) -> Response<Full<Bytes>> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    // `Credential=AKID/20261206/us-east-1/pricing/aws4_request`
    let scope = header("authorization");
    let region = scope
        .split("Credential=")
        .nth(1)
        .and_then(|c| c.split('/').nth(2))
        .unwrap_or_default()
        .to_string();
    if !API_REGIONS.contains(&region.as_str()) {
        return error(
            "InvalidSignatureException",
            "Credential should be scoped to a valid region.",
        );
    }
    if header("x-amz-target") != "AWSPriceListService.GetProducts" {
        return error("UnknownOperationException", "");
    }
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error("SerializationException", "");
    };
    seen.lock().unwrap().push(body.clone());
    let service = body["ServiceCode"].as_str().unwrap_or_default();
    if !catalog.iter().any(|p| p["serviceCode"] == service) {
        return error(
            "NotFoundException",
            &format!("Service code {service} not found"),
        );
    }
    if body["FormatVersion"]
        .as_str()
        .is_some_and(|f| f != "aws_v1")
    {
        return error("InvalidParameterException", "Invalid FormatVersion");
    }
    let filters = body["Filters"].as_array().cloned().unwrap_or_default();
    if filters.iter().any(|f| f["Type"] != "TERM_MATCH") {
        return error("InvalidParameterException", "Invalid filter type");
    }
    let matches = |p: &Value| {
        filters.iter().all(|f| {
            let field = f["Field"].as_str().unwrap_or_default();
            let have = match field {
                "productFamily" => &p["product"]["productFamily"],
                _ => &p["product"]["attributes"][field],
            };
            have == &f["Value"]
        })
    };
    let found: Vec<&Value> = catalog
        .iter()
        .filter(|p| p["serviceCode"] == service && matches(p))
        .collect();
    let max = body["MaxResults"].as_u64().unwrap_or(100).clamp(1, 100) as usize;
    let from: usize = body["NextToken"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let to = (from + max.min(PAGE)).min(found.len());
    let page: Vec<String> = found[from.min(to)..to]
        .iter()
        .map(|p| p.to_string())
        .collect();
    let mut out = json!({ "FormatVersion": "aws_v1", "PriceList": page });
    if to < found.len() {
        out["NextToken"] = json!(to.to_string());
    }
    Response::builder()
        .header("content-type", "application/x-amz-json-1.1")
        .body(Full::new(Bytes::from(out.to_string())))
        .unwrap()
}

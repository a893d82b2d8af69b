//! AWS errors in each protocol's real wire format, so the SDK parses and classifies them.

use crate::classify::Protocol;
use crate::xml::escape;
use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use http_body_util::Full;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsError {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// awsQuery `<Type>`: the caller's fault (Sender) or the service's (Receiver).
    pub sender: bool,
}

impl AwsError {
    pub fn client(status: u16, code: &str, message: impl Into<String>) -> Self {
        AwsError {
            status,
            code: code.into(),
            message: message.into(),
            sender: true,
        }
    }
    pub fn server(status: u16, code: &str, message: impl Into<String>) -> Self {
        AwsError {
            status,
            code: code.into(),
            message: message.into(),
            sender: false,
        }
    }
}

pub type Body = Full<Bytes>;

pub fn render(
    protocol: Protocol,
    service: &str,
    err: &AwsError,
    request_id: &str,
) -> Response<Body> {
    let (content_type, body): (&str, Vec<u8>) = match protocol {
        Protocol::Ec2Query => (
            "text/xml;charset=UTF-8",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>{}</RequestID></Response>",
                escape(&err.code), escape(&err.message), request_id
            )
            .into_bytes(),
        ),
        Protocol::AwsQuery => (
            "text/xml",
            format!(
                "<ErrorResponse xmlns=\"{}\">\n  <Error>\n    <Type>{}</Type>\n    <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{}</RequestId>\n</ErrorResponse>\n",
                query_namespace(service),
                if err.sender { "Sender" } else { "Receiver" },
                escape(&err.code),
                escape(&err.message),
                request_id
            )
            .into_bytes(),
        ),
        Protocol::AwsJson { minor } => (
            if minor == 0 { "application/x-amz-json-1.0" } else { "application/x-amz-json-1.1" },
            serde_json::to_vec(&serde_json::json!({"__type": err.code, "message": err.message}))
                .expect("json"),
        ),
        Protocol::RpcV2Cbor => (
            "application/cbor",
            cbor_text_map(&[("__type", &err.code), ("message", &err.message)]),
        ),
        Protocol::Other => ("text/plain", err.message.clone().into_bytes()),
    };
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(err.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", content_type)
        .header("content-length", body.len())
        .header("x-amzn-requestid", request_id);
    match protocol {
        Protocol::AwsJson { .. } => builder = builder.header("x-amzn-errortype", err.code.as_str()),
        Protocol::RpcV2Cbor => builder = builder.header("smithy-protocol", "rpc-v2-cbor"),
        _ => {}
    }
    builder
        .body(Full::new(Bytes::from(body)))
        .expect("valid response")
}

fn query_namespace(service: &str) -> &'static str {
    match service {
        "iam" => "https://iam.amazonaws.com/doc/2010-05-08/",
        "elasticloadbalancing" => "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
        "sts" => "https://sts.amazonaws.com/doc/2011-06-15/",
        _ => "http://webservices.amazon.com/AWSFault/2005-15-09",
    }
}

/// The throttling code each protocol/service really returns, and its HTTP status.
pub fn throttle(protocol: Protocol, status_429: bool) -> AwsError {
    let (status, code) = match (protocol, status_429) {
        (Protocol::Ec2Query, false) => (503, "RequestLimitExceeded"),
        (Protocol::Ec2Query, true) => (429, "RequestLimitExceeded"),
        (Protocol::AwsQuery, s) => (if s { 429 } else { 400 }, "Throttling"),
        (_, false) => (400, "ThrottlingException"),
        (_, true) => (429, "TooManyRequestsException"),
    };
    let msg = if code == "RequestLimitExceeded" {
        "Request limit exceeded."
    } else {
        "Rate exceeded"
    };
    AwsError::client(status, code, msg)
}

pub fn unavailable(protocol: Protocol) -> AwsError {
    let code = match protocol {
        Protocol::Ec2Query => "Unavailable",
        Protocol::AwsQuery => "ServiceUnavailable",
        _ => "ServiceUnavailableException",
    };
    AwsError::server(503, code, "Service is unavailable. Please try again later.")
}

pub fn internal(protocol: Protocol, service: &str) -> AwsError {
    let code = match (protocol, service) {
        (Protocol::Ec2Query, _) => "InternalError",
        (_, "iam") => "ServiceFailure",
        (_, "ecs" | "ecr") => "ServerException",
        (_, "ssm") => "InternalServerError",
        (_, "logs") => "ServiceUnavailableException",
        _ => "InternalFailure",
    };
    AwsError::server(500, code, "An internal error has occurred")
}

/// A CBOR map of text keys to text values (all an rpcv2Cbor error envelope needs).
pub fn cbor_text_map(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    cbor_head(&mut out, 5, pairs.len());
    for (k, v) in pairs {
        for s in [k, v] {
            cbor_head(&mut out, 3, s.len());
            out.extend_from_slice(s.as_bytes());
        }
    }
    out
}

fn cbor_head(out: &mut Vec<u8>, major: u8, len: usize) {
    let m = major << 5;
    match len {
        0..=23 => out.push(m | len as u8),
        24..=0xff => out.extend_from_slice(&[m | 24, len as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(m | 26);
            out.extend_from_slice(&(len as u32).to_be_bytes());
        }
    }
}

/// moto answers the refusals of its own IAM enforcement (AccessDenied, bad signatures, unknown
/// keys) in one XML shape whatever the protocol: `<ErrorResponse><Errors><Error>`, which is
/// neither awsQuery's (`<ErrorResponse><Error>`) nor JSON, so the SDKs cannot read the code.
/// The error AWS would send instead: JSON services name the codes their own way.
pub fn moto_auth_error(protocol: Protocol, status: u16, body: &[u8]) -> Option<AwsError> {
    if !matches!(protocol, Protocol::AwsQuery | Protocol::AwsJson { .. }) {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    if !text.contains("<ErrorResponse><Errors><Error>") {
        return None;
    }
    let leaves = crate::xml::leaves(text);
    let code = crate::xml::first(&leaves, "Error/Code")?;
    let message = crate::xml::first(&leaves, "Error/Message").unwrap_or_default();
    let code = match (protocol, code) {
        (Protocol::AwsJson { .. }, "AccessDenied") => "AccessDeniedException",
        (Protocol::AwsJson { .. }, "SignatureDoesNotMatch") => "InvalidSignatureException",
        (Protocol::AwsJson { .. }, "InvalidClientTokenId") => "UnrecognizedClientException",
        (_, code) => code,
    };
    Some(AwsError::client(status, code, message))
}

pub fn json_headers(p: Protocol, request_id: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Ok(v) = request_id.parse() {
        h.insert("x-amzn-requestid", v);
    }
    let ct = if p == (Protocol::AwsJson { minor: 0 }) {
        "application/x-amz-json-1.0"
    } else {
        "application/x-amz-json-1.1"
    };
    h.insert("content-type", ct.parse().expect("header"));
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_of(r: Response<Body>) -> String {
        String::from_utf8(r.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
    }

    #[tokio::test]
    async fn ec2_throttle_is_503_response_errors() {
        let r = render(
            Protocol::Ec2Query,
            "ec2",
            &throttle(Protocol::Ec2Query, false),
            "rid",
        );
        assert_eq!(r.status(), 503);
        let b = body_of(r).await;
        assert!(
            b.contains("<Response><Errors><Error><Code>RequestLimitExceeded</Code>"),
            "{b}"
        );
        assert!(b.contains("<RequestID>rid</RequestID>"));
    }

    #[tokio::test]
    async fn json_error_has_header_and_type() {
        let r = render(
            Protocol::AwsJson { minor: 1 },
            "ecs",
            &throttle(Protocol::AwsJson { minor: 1 }, false),
            "rid",
        );
        assert_eq!(r.status(), 400);
        assert_eq!(r.headers()["x-amzn-errortype"], "ThrottlingException");
        assert_eq!(
            body_of(r).await,
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#
        );
    }

    #[test]
    fn cbor_map_encoding() {
        // {"a": "bc"}
        assert_eq!(
            cbor_text_map(&[("a", "bc")]),
            vec![0xa1, 0x61, b'a', 0x62, b'b', b'c']
        );
        let long = "x".repeat(30);
        assert_eq!(&cbor_text_map(&[("k", &long)])[3..5], &[0x78, 30]);
    }

    #[test]
    fn moto_enforcement_errors_are_told_as_aws_tells_them() {
        let moto = r#"<?xml version="1.0" encoding="utf-8"?>
<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>User: u is not authorized to perform: ssm:GetParameter</Message></Error></Errors></ErrorResponse>"#;
        let json = moto_auth_error(Protocol::AwsJson { minor: 1 }, 400, moto.as_bytes()).unwrap();
        assert_eq!(json.code, "AccessDeniedException");
        assert_eq!(
            json.message,
            "User: u is not authorized to perform: ssm:GetParameter"
        );
        let query = moto_auth_error(Protocol::AwsQuery, 403, moto.as_bytes()).unwrap();
        assert_eq!((query.status, query.code.as_str()), (403, "AccessDenied"));
        assert!(moto_auth_error(Protocol::Ec2Query, 403, moto.as_bytes()).is_none());
        let right = "<ErrorResponse><Error><Code>X</Code></Error></ErrorResponse>";
        assert!(moto_auth_error(Protocol::AwsQuery, 400, right.as_bytes()).is_none());
    }
}

//! Which AWS service, action and wire protocol a request is.

use http::HeaderMap;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// EC2's own query dialect: form body, `<Response><Errors>` errors.
    Ec2Query,
    /// awsQuery (IAM, ELBv2, STS): form body, `<ErrorResponse>` errors.
    AwsQuery,
    /// awsJson1_0/1_1 (ECS, ECR, SSM, CloudWatch Logs): `X-Amz-Target`, `__type` errors.
    AwsJson { minor: u8 },
    /// Smithy rpcv2Cbor (e.g. CloudWatch metrics): `/service/S/operation/O`, CBOR bodies.
    RpcV2Cbor,
    /// Anything else (REST protocols, moto's own API): forwarded untouched.
    Other,
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Protocol::Ec2Query => f.write_str("ec2Query"),
            Protocol::AwsQuery => f.write_str("awsQuery"),
            Protocol::AwsJson { minor } => write!(f, "awsJson1_{minor}"),
            Protocol::RpcV2Cbor => f.write_str("rpcv2Cbor"),
            Protocol::Other => f.write_str("other"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Call {
    pub protocol: Protocol,
    /// SigV4 signing name, lowercase: `ec2`, `iam`, `ecs`, `elasticloadbalancing`, `ssm`...
    pub service: String,
    pub action: String,
    pub region: String,
    pub mutating: bool,
    /// Decoded form parameters (query protocols).
    pub form: Vec<(String, String)>,
    /// Parsed body (JSON protocols).
    pub json: Option<Value>,
}

impl Call {
    /// `service:Action`, the key for statistics and for the per-action fault sequence.
    pub fn key(&self) -> String {
        format!("{}:{}", self.service, self.action)
    }
    pub fn is(&self, service: &str, action: &str) -> bool {
        self.service == service && self.action == action
    }
    pub fn param(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// Values of `Prefix1`, `Prefix2`... (list members in the query protocols).
    pub fn params_with_prefix(&self, prefix: &str) -> Vec<&str> {
        self.form
            .iter()
            .filter(|(k, _)| {
                k.strip_prefix(prefix)
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
            .map(|(_, v)| v.as_str())
            .collect()
    }
    pub fn json_str(&self, pointer: &str) -> Option<&str> {
        self.json.as_ref()?.pointer(pointer)?.as_str()
    }
}

/// Read-only actions: never mutate, safe to retry.
pub fn is_read_only(action: &str) -> bool {
    const READ: &[&str] = &[
        "Describe", "Get", "List", "Lookup", "Search", "BatchGet", "Filter", "Simulate",
    ];
    READ.iter().any(|p| action.starts_with(p))
}

pub fn classify(headers: &HeaderMap, path: &str, body: &[u8]) -> Call {
    let (scope_region, scope_service) = credential_scope(headers);
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let content_type = header("content-type").unwrap_or("").to_ascii_lowercase();
    let mut call = Call {
        protocol: Protocol::Other,
        service: scope_service.clone().unwrap_or_default(),
        action: String::new(),
        region: scope_region.unwrap_or_else(|| "us-east-1".into()),
        mutating: true,
        form: Vec::new(),
        json: None,
    };
    if let Some(target) = header("x-amz-target") {
        let (prefix, action) = target.rsplit_once('.').unwrap_or(("", target));
        let minor = if content_type.contains("json-1.0") {
            0
        } else {
            1
        };
        call.protocol = Protocol::AwsJson { minor };
        call.action = action.to_string();
        if scope_service.is_none() {
            call.service = service_from_target(prefix).to_string();
        }
        call.json = serde_json::from_slice(body).ok();
    } else if header("smithy-protocol") == Some("rpc-v2-cbor") {
        // /service/{ServiceShape}/operation/{Operation}
        let mut parts = path.trim_start_matches('/').split('/');
        if let (Some("service"), Some(svc), Some("operation"), Some(op)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        {
            call.protocol = Protocol::RpcV2Cbor;
            call.action = op.to_string();
            if scope_service.is_none() {
                call.service = svc.to_ascii_lowercase();
            }
        }
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        call.form = url::form_urlencoded::parse(body).into_owned().collect();
        if let Some(action) = call.param("Action") {
            call.action = action.to_string();
            if scope_service.is_none() {
                call.service = service_from_version(call.param("Version").unwrap_or("")).into();
            }
            call.protocol = if call.service == "ec2" {
                Protocol::Ec2Query
            } else {
                Protocol::AwsQuery
            };
        }
    }
    if call.protocol == Protocol::Other {
        // REST protocols and moto's own API: counted, never faulted.
        call.service = if call.service.is_empty() {
            "other".into()
        } else {
            call.service
        };
        call.action = "(rest)".into();
    }
    call.mutating = !is_read_only(&call.action);
    call
}

/// A request as the proxy sees it: [`classify`], with REST calls named by method and path.
pub fn classify_request(parts: &http::request::Parts, body: &[u8]) -> Call {
    let mut call = classify(&parts.headers, parts.uri.path(), body);
    name_rest(&mut call, parts.method.as_str(), parts.uri.path());
    call
}

/// Names a REST call of a service stackctl uses (Route 53, restXml) by its method and path, so
/// it is counted and checked by action; it is still forwarded untouched, never faulted.
fn name_rest(call: &mut Call, method: &str, path: &str) {
    if call.protocol != Protocol::Other || call.service != "route53" {
        return;
    }
    // /2013-04-01/<resource>[/<id>[/<sub>]]
    let parts: Vec<&str> = path.trim_matches('/').split('/').skip(1).collect();
    let action = match (method, parts.as_slice()) {
        ("GET", ["hostedzonesbyname"]) => "ListHostedZonesByName",
        ("GET", ["hostedzone"]) => "ListHostedZones",
        ("POST", ["hostedzone"]) => "CreateHostedZone",
        ("GET", ["hostedzone", _]) => "GetHostedZone",
        ("DELETE", ["hostedzone", _]) => "DeleteHostedZone",
        ("GET", ["hostedzone", _, "rrset"]) => "ListResourceRecordSets",
        ("POST", ["hostedzone", _, "rrset"]) => "ChangeResourceRecordSets",
        ("GET", ["change", _]) => "GetChange",
        _ => return,
    };
    call.action = action.into();
    call.mutating = !is_read_only(action);
}

/// Region and service from `Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, ...`.
fn credential_scope(headers: &HeaderMap) -> (Option<String>, Option<String>) {
    let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return (None, None);
    };
    let Some(start) = auth.find("Credential=") else {
        return (None, None);
    };
    let cred = auth[start + "Credential=".len()..]
        .split([',', ' '])
        .next()
        .unwrap_or("");
    let parts: Vec<&str> = cred.split('/').collect();
    if parts.len() >= 5 && parts[parts.len() - 1] == "aws4_request" {
        let n = parts.len();
        (
            Some(parts[n - 3].to_string()),
            Some(parts[n - 2].to_ascii_lowercase()),
        )
    } else {
        (None, None)
    }
}

/// Fallbacks for unsigned requests.
fn service_from_target(prefix: &str) -> &'static str {
    match prefix {
        "AmazonEC2ContainerServiceV20141113" => "ecs",
        "AmazonEC2ContainerRegistry_V20150921" => "ecr",
        "AmazonSSM" => "ssm",
        "Logs_20140328" => "logs",
        _ => "unknown",
    }
}

fn service_from_version(version: &str) -> &'static str {
    match version {
        "2016-11-15" => "ec2",
        "2010-05-08" => "iam",
        "2015-12-01" => "elasticloadbalancing",
        "2011-06-15" => "sts",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }
    const AUTH_EC2: &str = "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/ec2/aws4_request, SignedHeaders=host, Signature=abc";

    #[test]
    fn ec2_query() {
        let h = headers(&[
            ("authorization", AUTH_EC2),
            ("content-type", "application/x-www-form-urlencoded"),
        ]);
        let c = classify(
            &h,
            "/",
            b"Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-1&VpcId.2=vpc-2",
        );
        assert_eq!(
            (c.protocol, c.service.as_str(), c.action.as_str()),
            (Protocol::Ec2Query, "ec2", "DescribeVpcs")
        );
        assert_eq!(c.region, "eu-west-1");
        assert!(!c.mutating);
        assert_eq!(c.params_with_prefix("VpcId."), vec!["vpc-1", "vpc-2"]);
    }

    #[test]
    fn aws_query_unsigned_falls_back_to_version() {
        let h = headers(&[(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )]);
        let c = classify(&h, "/", b"Action=CreateRole&Version=2010-05-08&RoleName=r");
        assert_eq!(
            (c.protocol, c.service.as_str()),
            (Protocol::AwsQuery, "iam")
        );
        assert!(c.mutating);
        assert_eq!(c.param("RoleName"), Some("r"));
    }

    #[test]
    fn aws_json() {
        let h = headers(&[
            (
                "x-amz-target",
                "AmazonEC2ContainerServiceV20141113.CreateService",
            ),
            ("content-type", "application/x-amz-json-1.1"),
        ]);
        let c = classify(&h, "/", br#"{"serviceName":"web"}"#);
        assert_eq!(c.protocol, Protocol::AwsJson { minor: 1 });
        assert_eq!(c.key(), "ecs:CreateService");
        assert_eq!(c.json_str("/serviceName"), Some("web"));
    }

    #[test]
    fn rpc_v2_cbor() {
        let h = headers(&[
            ("smithy-protocol", "rpc-v2-cbor"),
            ("content-type", "application/cbor"),
        ]);
        let c = classify(
            &h,
            "/service/GraniteServiceVersion20100801/operation/PutMetricData",
            b"",
        );
        assert_eq!(c.protocol, Protocol::RpcV2Cbor);
        assert_eq!(c.action, "PutMetricData");
    }

    #[test]
    fn other_is_left_alone() {
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/route53/aws4_request, SignedHeaders=host, Signature=x"
                .parse()
                .unwrap(),
        );
        let mut r = classify(&h, "/2013-04-01/hostedzone/Z1/rrset/", b"<xml/>");
        name_rest(&mut r, "POST", "/2013-04-01/hostedzone/Z1/rrset/");
        assert_eq!(r.key(), "route53:ChangeResourceRecordSets");
        assert!(r.mutating);
        let mut r = classify(&h, "/2013-04-01/hostedzonesbyname", b"");
        name_rest(&mut r, "GET", "/2013-04-01/hostedzonesbyname");
        assert_eq!(r.key(), "route53:ListHostedZonesByName");
        assert!(!r.mutating);
        let c = classify(&HeaderMap::new(), "/moto-api/reset", b"");
        assert_eq!(c.protocol, Protocol::Other);
        assert_eq!(c.key(), "other:(rest)");
    }
}

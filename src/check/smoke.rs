//! One pass over what a user of the service relies on: health answers; with a token, the
//! token is accepted and a missing or wrong one refused with 401; with the payments API, its
//! documented contract (apps/api/README.md, "Routes") on a record of its own, removed at the
//! end even when a step fails.

use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde_json::{Value, json};

use super::{Target, authorized};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    Skip,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub name: String,
    pub verdict: Verdict,
    pub detail: String,
}

/// The steps so far, and the token no detail may show (a server could echo it).
struct Steps(Vec<Step>, Option<String>);

impl Steps {
    fn add(&mut self, name: &str, verdict: Verdict, detail: impl Into<String>) -> bool {
        let mut detail: String = detail.into();
        if let Some(t) = self.1.as_deref().filter(|t| !t.is_empty()) {
            detail = detail.replace(t, "<token>");
        }
        self.0.push(Step {
            name: name.into(),
            verdict,
            detail,
        });
        verdict != Verdict::Fail
    }
    /// `name` passes when the answer's status is `want`.
    fn expect(&mut self, name: &str, got: &Answer, want: StatusCode) -> bool {
        match got {
            Answer::Got(s, ..) if *s == want => self.add(name, Verdict::Pass, format!("{s}")),
            Answer::Got(s, body, _) => self.add(
                name,
                Verdict::Fail,
                format!("{s}, expected {want}: {}", excerpt(body)),
            ),
            Answer::Failed(e) => self.add(name, Verdict::Fail, e.clone()),
        }
    }
}

enum Answer {
    /// The status, the body, and the `Location` header if any.
    Got(StatusCode, String, Option<String>),
    Failed(String),
}

impl Answer {
    fn json(&self) -> Value {
        match self {
            Answer::Got(_, body, _) => serde_json::from_str(body).unwrap_or(Value::Null),
            Answer::Failed(_) => Value::Null,
        }
    }
}

fn excerpt(body: &str) -> String {
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(120) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

async fn call(
    client: &reqwest::Client,
    target: &Target,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let mut req = authorized(client.request(method, target.at(path)), token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    match req.send().await {
        Ok(resp) => {
            let status = resp.status();
            let location = resp
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .map(str::to_string);
            Answer::Got(status, resp.text().await.unwrap_or_default(), location)
        }
        Err(e) => Answer::Failed(super::report::cause(&e)),
    }
}

/// Every step, in order.
pub async fn run(client: &reqwest::Client, target: &Target) -> Vec<Step> {
    let mut steps = Steps(Vec::new(), target.token.clone());
    let health = call(client, target, Method::GET, &target.health, None, None).await;
    steps.expect(
        &format!("GET {} answers 200", target.health),
        &health,
        StatusCode::OK,
    );
    let Some(token) = target.token.as_deref() else {
        steps.add(
            "token",
            Verdict::Skip,
            "the service has no token (`token: true`)",
        );
        return steps.0;
    };
    let none = call(client, target, Method::GET, "/", None, None).await;
    steps.expect("no token is refused", &none, StatusCode::UNAUTHORIZED);
    let wrong = format!("stackctl-check-{:016x}", rand::random::<u64>());
    let bad = call(client, target, Method::GET, "/", Some(&wrong), None).await;
    steps.expect("a wrong token is refused", &bad, StatusCode::UNAUTHORIZED);
    let good = call(client, target, Method::GET, "/", Some(token), None).await;
    steps.expect("the token is accepted", &good, StatusCode::OK);
    payments(client, target, token, &mut steps).await;
    steps.0
}

/// The payments contract on a record of the check's own.
async fn payments(client: &reqwest::Client, target: &Target, token: &str, steps: &mut Steps) {
    let t = Some(token);
    let list = call(client, target, Method::GET, "/v1/payments?limit=1", t, None).await;
    match &list {
        Answer::Got(s, ..)
            if *s == StatusCode::SERVICE_UNAVAILABLE && list.json()["error"] == "no_database" =>
        {
            steps.add(
                "payments",
                Verdict::Skip,
                "the service has no database (list it under `database.services`)",
            );
            return;
        }
        Answer::Got(s, ..) if *s == StatusCode::NOT_FOUND => {
            steps.add("payments", Verdict::Skip, "no payments API at /v1/payments");
            return;
        }
        _ => {}
    }
    if !steps.expect("GET /v1/payments lists payments", &list, StatusCode::OK) {
        return;
    }
    let mark = format!("stackctl check smoke {:08x}", rand::random::<u32>());
    let body = json!({ "data": { "check": mark }, "payment": "0.01" });
    let created = call(client, target, Method::POST, "/v1/payments", t, Some(body)).await;
    if !steps.expect(
        "POST /v1/payments creates one",
        &created,
        StatusCode::CREATED,
    ) {
        return;
    }
    let payment = created.json();
    let location = match &created {
        Answer::Got(_, _, location) => location.as_deref(),
        Answer::Failed(_) => None,
    };
    let (Some(id), Some(location)) = (payment["id"].as_i64(), location) else {
        steps.add(
            "the creation",
            Verdict::Fail,
            format!("no id or Location: {}", excerpt(&payment.to_string())),
        );
        return;
    };
    let path = format!("/v1/payments/{id}");
    steps.add(
        "it is at its Location",
        if location == path {
            Verdict::Pass
        } else {
            Verdict::Fail
        },
        format!("Location: {location}"),
    );
    let read = call(client, target, Method::GET, &path, t, None).await;
    if steps.expect(&format!("GET {path} reads it"), &read, StatusCode::OK) {
        let p = read.json();
        let same = p["data"]["check"] == mark.as_str()
            && p["payment"] == "0.01"
            && p["status"] == "inserted";
        steps.add(
            "as it was written",
            if same { Verdict::Pass } else { Verdict::Fail },
            excerpt(&p.to_string()),
        );
    }
    let patch = json!({ "status": "consumed" });
    let updated = call(client, target, Method::PATCH, &path, t, Some(patch)).await;
    if steps.expect(
        &format!("PATCH {path} updates it"),
        &updated,
        StatusCode::OK,
    ) {
        let consumed = updated.json()["status"] == "consumed";
        steps.add(
            "its status is consumed",
            if consumed {
                Verdict::Pass
            } else {
                Verdict::Fail
            },
            excerpt(&updated.json().to_string()),
        );
    }
    let deleted = call(client, target, Method::DELETE, &path, t, None).await;
    let gone = steps.expect(
        &format!("DELETE {path} removes it"),
        &deleted,
        StatusCode::NO_CONTENT,
    );
    let after = call(client, target, Method::GET, &path, t, None).await;
    steps.expect("it is gone (404)", &after, StatusCode::NOT_FOUND);
    if !gone {
        // Leave nothing behind: one more try.
        let _ = call(client, target, Method::DELETE, &path, t, None).await;
    }
}

//! `stackctl check`: calls a deployed stack the way its users do. `smoke` proves the API's
//! contract once, `load` holds a constant arrival rate and measures, `resilience` stops a
//! task under load. Each calls only the target it is given: the stack's own URL or one
//! passed explicitly; no redirect is followed.

pub mod load;
pub mod report;
pub mod smoke;
pub mod stats;

use std::time::Duration;

use reqwest::Url;
use reqwest::redirect::Policy;

/// What the checks call: the base URL, the service's health path, its token if it has one.
#[derive(Clone)]
pub struct Target {
    pub url: Url,
    pub health: String,
    pub token: Option<String>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("url", &self.url.as_str())
            .field("health", &self.health)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Target {
    /// `path` (with its query) on the target's host.
    pub fn at(&self, path: &str) -> Url {
        let mut url = self.url.clone();
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        url.set_path(path);
        url.set_query((!query.is_empty()).then_some(query));
        url
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("`{0}` is not a URL a check can call: {1}")]
    BadUrl(String, String),
    #[error("the HTTP client could not be made: {0}")]
    Client(String),
}

impl CheckError {
    pub fn hint(&self) -> String {
        match self {
            CheckError::BadUrl(..) => {
                "give the whole URL, e.g. --url http://127.0.0.1:8080/ or https://api.example.com/"
                    .into()
            }
            CheckError::Client(_) => "run the command again with -v to see the cause".into(),
        }
    }
}

/// A target URL as the person wrote it: http or https, a host, nothing else.
pub fn parse_url(s: &str) -> Result<Url, CheckError> {
    let url = Url::parse(s).map_err(|e| CheckError::BadUrl(s.into(), e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(CheckError::BadUrl(
            s.into(),
            "use http:// or https://".into(),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(CheckError::BadUrl(
            s.into(),
            "a token goes in a header, never in the URL".into(),
        ));
    }
    Ok(url)
}

/// The client every check uses: `timeout` per request, connections kept alive (as a
/// browser or API client would), no redirect followed: the target is checked as given, and
/// a redirect would drop the token anyway (on another host, scheme or port).
pub fn client(timeout: Duration, pool: usize) -> Result<reqwest::Client, CheckError> {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .pool_max_idle_per_host(pool)
        .user_agent(concat!("stackctl-check/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| CheckError::Client(e.to_string()))
}

/// Said before a check sends a token over plain HTTP to another machine.
pub fn plain_http_warning(target: &Target) -> Option<String> {
    let local = matches!(
        target.url.host_str(),
        Some("localhost" | "127.0.0.1" | "[::1]")
    );
    (target.token.is_some() && target.url.scheme() == "http" && !local).then(|| {
        format!(
            "warning: the token goes to {} unencrypted (http://): give the stack a `domain:` to serve it over HTTPS",
            target.url.host_str().unwrap_or_default()
        )
    })
}

/// `Authorization: Token <value>` when the target has a token.
pub fn authorized(req: reqwest::RequestBuilder, token: Option<&str>) -> reqwest::RequestBuilder {
    match token {
        Some(t) => req.header("authorization", format!("Token {t}")),
        None => req,
    }
}

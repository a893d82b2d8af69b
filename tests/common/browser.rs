//! A small headless-Chromium driver over the DevTools protocol (CDP), for tests that look at
//! pages the way a user's browser does: navigate, fill and submit forms, read text, screenshot.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use base64::Engine;
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http::Request;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const TIMEOUT: Duration = Duration::from_secs(30);

pub struct Browser {
    child: Child,
    tempdir: tempfile::TempDir,
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// Events received while waiting for something else, oldest first.
    events: Vec<Value>,
}

/// STACKCTL_TEST_CHROMIUM, else Debian's real binary (not its wrapper script), else PATH.
fn binary() -> PathBuf {
    let debian = "/usr/lib/chromium/chromium";
    let found = Path::new(debian).exists().then_some(debian);
    let fallback = PathBuf::from(found.unwrap_or("chromium"));
    std::env::var_os("STACKCTL_TEST_CHROMIUM").map_or(fallback, PathBuf::from)
}

impl Browser {
    /// Starts Chromium on a fresh profile and attaches to a new about:blank page.
    pub async fn launch() -> anyhow::Result<Browser> {
        let tempdir = tempfile::tempdir()?;
        let log_path = tempdir.path().join("chromium.log");
        let log = std::fs::File::create(&log_path)?;
        let bin = binary();
        let mut child = Command::new(&bin)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
            ])
            .arg(format!("--user-data-dir={}", tempdir.path().display()))
            .args(["--remote-debugging-port=0", "--window-size=1024,768"])
            // No internet here: everything below stops Chromium's own background traffic
            // (updates, sync, metrics, safe browsing...), and the resolver rule makes every
            // host but 127.0.0.1 (localhost too) fail fast instead of waiting on DNS.
            .args([
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-default-apps",
                "--disable-domain-reliability",
                "--disable-client-side-phishing-detection",
                "--no-pings",
                "--metrics-recording-only",
                "--disable-quic",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                "about:blank",
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;

        // Port 0: Chromium picks a free port and writes it (and the browser's ws path) here.
        let port_file = tempdir.path().join("DevToolsActivePort");
        let start = Instant::now();
        let port: u16 = loop {
            let text = std::fs::read_to_string(&port_file).unwrap_or_default();
            if let [port, _ws_path, ..] = text.lines().collect::<Vec<_>>()[..] {
                break port.trim().parse().context("DevToolsActivePort")?;
            }
            if let Some(status) = child.try_wait()? {
                bail!("chromium exited ({status}):\n{}", log_tail(&log_path));
            }
            if start.elapsed() > TIMEOUT {
                bail!(
                    "chromium wrote no DevToolsActivePort:\n{}",
                    log_tail(&log_path)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };

        let target = new_page(port).await?;
        let url = target["webSocketDebuggerUrl"]
            .as_str()
            .ok_or_else(|| anyhow!("no webSocketDebuggerUrl in {target}"))?;
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .with_context(|| format!("connecting to {url}"))?;
        let mut browser = Browser {
            child,
            tempdir,
            ws,
            next_id: 1,
            events: Vec::new(),
        };
        browser.call("Page.enable", json!({})).await?;
        browser.call("Runtime.enable", json!({})).await?;
        let metrics =
            json!({"width": 1024, "height": 768, "deviceScaleFactor": 1, "mobile": false});
        browser
            .call("Emulation.setDeviceMetricsOverride", metrics)
            .await?;
        Ok(browser)
    }

    /// One CDP command; its `result`. Events that arrive meanwhile are kept for later waits.
    pub async fn call(&mut self, method: &str, params: Value) -> anyhow::Result<Value> {
        let id = self.next_id;
        self.next_id += 1;
        let msg = json!({"id": id, "method": method, "params": params}).to_string();
        self.ws.send(Message::text(msg)).await?;
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let mut msg = self.recv(deadline, method).await?;
            if msg.get("id").is_none() {
                self.events.push(msg);
            } else if msg["id"] == id {
                if let Some(err) = msg.get("error") {
                    bail!("{method}: {}", err["message"].as_str().unwrap_or("error"));
                }
                return Ok(msg["result"].take());
            }
        }
    }

    /// Navigates and waits for the page's load event (not for same-document navigations).
    pub async fn goto(&mut self, url: &str) -> anyhow::Result<()> {
        self.forget("Page.loadEventFired");
        let res = self.call("Page.navigate", json!({"url": url})).await?;
        if let Some(err) = res.get("errorText").and_then(Value::as_str) {
            bail!("navigating to {url}: {err}");
        }
        self.wait_for("Page.loadEventFired").await
    }

    /// The value of `js` (awaited if a promise); a thrown exception is an error.
    pub async fn eval(&mut self, js: &str) -> anyhow::Result<Value> {
        let params = json!({"expression": js, "returnByValue": true, "awaitPromise": true});
        let mut res = self.call("Runtime.evaluate", params).await?;
        if let Some(ex) = res.get("exceptionDetails") {
            let text = ex["exception"]["description"]
                .as_str()
                .or(ex["text"].as_str())
                .unwrap_or("exception");
            bail!("{text}\n  evaluating: {js}");
        }
        Ok(res["result"]["value"].take())
    }

    /// The page's visible text.
    pub async fn text(&mut self) -> anyhow::Result<String> {
        let text = self.eval("document.body?.innerText ?? ''").await?;
        Ok(text.as_str().unwrap_or_default().to_string())
    }

    /// Sets the value of the element matching `selector`, firing input and change events.
    pub async fn fill(&mut self, selector: &str, value: &str) -> anyhow::Result<()> {
        let value = serde_json::to_string(value)?;
        let body = format!(
            "(el.value = {value}, el.dispatchEvent(new Event('input', {{bubbles: true}})), \
             el.dispatchEvent(new Event('change', {{bubbles: true}})), null)"
        );
        self.on_element(selector, &body).await.map(drop)
    }

    /// Clicks `selector` (a submit button) and waits for the page it navigates to to load.
    pub async fn submit(&mut self, selector: &str) -> anyhow::Result<()> {
        self.forget("Page.loadEventFired");
        self.on_element(selector, "(el.click(), null)").await?;
        self.wait_for("Page.loadEventFired").await
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&mut self, path: &Path) -> anyhow::Result<()> {
        let res = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await?;
        let data = res["data"].as_str().context("no screenshot data")?;
        let png = base64::engine::general_purpose::STANDARD.decode(data)?;
        tokio::fs::write(path, png)
            .await
            .with_context(|| format!("writing {}", path.display()))
    }

    /// The text of the `<label>` of the input matching `selector` (an accessible name).
    pub async fn label_of(&mut self, selector: &str) -> anyhow::Result<String> {
        let body = "(el.labels && el.labels.length ? el.labels[0].innerText : null)";
        match self.on_element(selector, body).await? {
            Value::String(s) => Ok(s),
            _ => bail!("`{selector}` has no <label>"),
        }
    }

    /// `body` evaluated with `el` bound to the first element matching `selector`.
    async fn on_element(&mut self, selector: &str, body: &str) -> anyhow::Result<Value> {
        let sel = serde_json::to_string(selector)?;
        let js = format!(
            "(() => {{ const el = document.querySelector({sel}); \
             return el ? {{found: true, value: {body}}} : {{found: false}}; }})()"
        );
        let mut res = self.eval(&js).await?;
        if res["found"] != true {
            bail!("no element matches `{selector}`");
        }
        Ok(res["value"].take())
    }

    fn forget(&mut self, method: &str) {
        self.events.retain(|e| e["method"] != method);
    }

    /// Waits (30 s at most) for event `method`, consuming it.
    async fn wait_for(&mut self, method: &str) -> anyhow::Result<()> {
        if let Some(i) = self.events.iter().position(|e| e["method"] == method) {
            self.events.remove(i);
            return Ok(());
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let msg = self.recv(deadline, method).await?;
            if msg["method"] == method {
                return Ok(());
            }
            if msg.get("id").is_none() {
                self.events.push(msg);
            }
        }
    }

    /// The next JSON message from the page, before `deadline`.
    async fn recv(&mut self, deadline: Instant, waiting: &str) -> anyhow::Result<Value> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let next = tokio::time::timeout(left, self.ws.next()).await;
            let msg = next
                .map_err(|_| anyhow!("timed out waiting for {waiting}"))?
                .ok_or_else(|| anyhow!("devtools connection closed, waiting for {waiting}"))??;
            if let Message::Text(text) = msg {
                return Ok(serde_json::from_str(text.as_str())?);
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        // Reap it before the profile directory goes, so removing that does not race it.
        let mut left = 40;
        while left > 0 && matches!(self.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(25));
            left -= 1;
        }
    }
}

/// A new page target. PUT: Chromium refuses GET on /json/new (since version 111).
async fn new_page(port: u16) -> anyhow::Result<Value> {
    let client = Client::builder(TokioExecutor::new()).build_http();
    let url = format!("http://127.0.0.1:{port}/json/new?about:blank");
    let req = Request::put(&url).body(Empty::<Bytes>::new())?;
    let resp = tokio::time::timeout(TIMEOUT, client.request(req))
        .await
        .map_err(|_| anyhow!("timed out on {url}"))??;
    let status = resp.status();
    let body = resp.into_body().collect().await?.to_bytes();
    let body = String::from_utf8_lossy(&body);
    if !status.is_success() {
        bail!("PUT {url}: {status}\n{body}");
    }
    serde_json::from_str(&body).with_context(|| format!("PUT {url}: {body}"))
}

fn log_tail(path: &Path) -> String {
    let log = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

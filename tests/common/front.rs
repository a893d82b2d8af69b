//! The test front that plays the load balancer: it reads the stack's listeners from the
//! emulator and serves as they say. :80's redirect answers 301 to the `Location` its
//! RedirectConfig makes; :443 serves TLS (the versions its security policy allows) with a
//! test certificate for the name of the ACM certificate the listener uses, which must be
//! ISSUED (ELB refuses any other, moto_fidelity.py too), and passes the bytes on to a task.
//! Clients reach it with `curl --connect-to`, keeping the domain in the URL, SNI and Host.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use stackctl::aws::Aws;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub struct Front {
    pub http_port: u16,
    pub https_port: u16,
    /// The test certificate (its own CA), for the client to trust.
    pub ca: PathBuf,
    pub ssl_policy: String,
    _dir: tempfile::TempDir,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Front {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// A redirect as the listener's RedirectConfig says.
#[derive(Clone, Debug)]
struct Redirect {
    protocol: String,
    port: String,
    host: String,
    path: String,
    query: String,
    status: u16,
}

impl Front {
    /// The front of load balancer `lb_name`, sending what :443 forwards to `backend`.
    pub async fn start(aws: &Aws, lb_name: &str, backend: &str) -> Front {
        let lbs = aws
            .elb
            .describe_load_balancers()
            .names(lb_name)
            .send()
            .await
            .unwrap();
        let lb = lbs.load_balancers()[0].load_balancer_arn().unwrap();
        let listeners = aws
            .elb
            .describe_listeners()
            .load_balancer_arn(lb)
            .send()
            .await
            .unwrap();
        let by_port = |p: i32| {
            listeners
                .listeners()
                .iter()
                .find(|l| l.port() == Some(p))
                .unwrap_or_else(|| panic!("no listener on :{p}"))
                .clone()
        };
        let (http, https) = (by_port(80), by_port(443));
        let r = http.default_actions()[0]
            .redirect_config()
            .expect(":80 redirects");
        let redirect = Redirect {
            protocol: r.protocol().unwrap_or("#{protocol}").into(),
            port: r.port().unwrap_or("#{port}").into(),
            host: r.host().unwrap_or("#{host}").into(),
            path: r.path().unwrap_or("/#{path}").into(),
            query: r.query().unwrap_or("#{query}").into(),
            status: match r.status_code().map(|s| s.as_str()) {
                Some("HTTP_301") => 301,
                _ => 302,
            },
        };
        assert_eq!(https.protocol().map(|p| p.as_str()), Some("HTTPS"));
        let ssl_policy = https.ssl_policy().unwrap_or_default().to_string();
        let arn = https.certificates()[0].certificate_arn().unwrap();
        let cert = aws
            .acm
            .describe_certificate()
            .certificate_arn(arn)
            .send()
            .await
            .unwrap();
        let cert = cert.certificate().unwrap();
        assert_eq!(
            cert.status().map(|s| s.as_str()),
            Some("ISSUED"),
            "the listener serves a certificate ACM has not issued"
        );
        let name = cert.domain_name().unwrap().to_string();
        let dir = tempfile::tempdir().unwrap();
        let (ca, config) = tls_config(dir.path(), &name, &ssl_policy);

        let plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tls = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (http_port, https_port) = (
            plain.local_addr().unwrap().port(),
            tls.local_addr().unwrap().port(),
        );
        let redirects = tokio::spawn(async move {
            while let Ok((mut s, _)) = plain.accept().await {
                let r = redirect.clone();
                tokio::spawn(async move {
                    let head = read_head(&mut s).await;
                    let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                    let host = header(&head, "host").unwrap_or_default();
                    let location = r.location(&host, &target);
                    let reply = format!(
                        "HTTP/1.1 {} Moved Permanently\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        r.status
                    );
                    let _ = s.write_all(reply.as_bytes()).await;
                });
            }
        });
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let backend = backend.to_string();
        let serving = tokio::spawn(async move {
            while let Ok((s, _)) = tls.accept().await {
                let (acceptor, backend) = (acceptor.clone(), backend.clone());
                tokio::spawn(async move {
                    let Ok(mut client) = acceptor.accept(s).await else {
                        return;
                    };
                    let Ok(mut task) = TcpStream::connect(&backend).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut task).await;
                });
            }
        });
        Front {
            http_port,
            https_port,
            ca,
            ssl_policy,
            _dir: dir,
            tasks: vec![redirects, serving],
        }
    }

    /// `curl` to `url` through the front as `domain`, following redirects (with the token:
    /// the redirect stays on the domain). Returns (status, redirects followed, body).
    pub fn curl(&self, domain: &str, url: &str, token: &str) -> (u16, u32, String) {
        let out = Command::new("curl")
            .args(["-sS", "--location-trusted", "--max-redirs", "3", "--cacert"])
            .arg(&self.ca)
            .args([
                "--connect-to",
                &format!("{domain}:80:127.0.0.1:{}", self.http_port),
            ])
            .args([
                "--connect-to",
                &format!("{domain}:443:127.0.0.1:{}", self.https_port),
            ])
            .args(["-H", &format!("Authorization: Token {token}")])
            .args(["-w", "\n%{http_code} %{num_redirects}"])
            .arg(url)
            .output()
            .expect("curl runs");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "curl {url}: {}{text}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (body, tail) = text.rsplit_once('\n').unwrap();
        let mut tail = tail.split_whitespace();
        let code = tail.next().unwrap().parse().unwrap();
        let redirects = tail.next().unwrap().parse().unwrap();
        (code, redirects, body.to_string())
    }
}

impl Redirect {
    /// ELB's keywords filled in from the request (ELB API Reference, RedirectActionConfig).
    fn location(&self, host: &str, target: &str) -> String {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let host = host.split(':').next().unwrap_or_default();
        let fill = |s: &str| {
            s.replace("#{protocol}", "http")
                .replace("#{host}", host)
                .replace("#{port}", "80")
                .replace("#{path}", path.trim_start_matches('/'))
                .replace("#{query}", query)
        };
        let query = fill(&self.query);
        format!(
            "{}://{}:{}{}{}",
            fill(&self.protocol).to_lowercase(),
            fill(&self.host),
            fill(&self.port),
            fill(&self.path),
            if query.is_empty() {
                String::new()
            } else {
                format!("?{query}")
            }
        )
    }
}

async fn read_head(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    String::from_utf8_lossy(&buf).to_string()
}

fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

/// A self-signed certificate for `name` (made with openssl) and a server config allowing the
/// TLS versions of the listener's security policy.
fn tls_config(dir: &Path, name: &str, policy: &str) -> (PathBuf, rustls::ServerConfig) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", &format!("/CN={name}")])
        .args(["-addext", &format!("subjectAltName=DNS:{name}")])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(&key).unwrap();
    // ELBSecurityPolicy-TLS13-1-2-*: TLS 1.3 and 1.2; TLS13-1-3-*: 1.3 only.
    let versions: &[&rustls::SupportedProtocolVersion] = if policy.contains("TLS13-1-3") {
        &[&rustls::version::TLS13]
    } else if policy.contains("TLS13-1-2") {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    } else {
        panic!("security policy {policy} allows TLS versions below 1.2")
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    (cert, config)
}

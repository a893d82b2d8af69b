//! `<app> healthcheck`: probes the local server's `/healthz` over plain TCP, so a container
//! health check needs no shell, curl or name resolution (stackctl's image health command).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot reach {0}: {1}")]
    Connect(SocketAddr, std::io::Error),
    #[error("no answer: {0}")]
    Io(#[from] std::io::Error),
    #[error("unhealthy: {0}")]
    Status(String),
}

/// `GET /healthz` on 127.0.0.1:`port`; Ok only for a 200 answer within `timeout`.
pub fn probe(port: u16, timeout: Duration) -> Result<(), ProbeError> {
    probe_as("healthcheck", port, timeout)
}

/// [`probe`], telling the server it is `<app>-healthcheck` (the access log shows it).
pub fn probe_as(app: &str, port: u16, timeout: Duration) -> Result<(), ProbeError> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| ProbeError::Connect(addr, e))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.write_all(
        format!(
            "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {app}-healthcheck\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )?;
    let mut head = Vec::with_capacity(64);
    let mut byte = [0u8; 1];
    while head.len() < 256 && !head.ends_with(b"\r\n") {
        if stream.read(&mut byte)? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    let line = String::from_utf8_lossy(&head).trim_end().to_string();
    match line.split(' ').nth(1) {
        Some("200") => Ok(()),
        _ => Err(ProbeError::Status(if line.is_empty() {
            "empty response".into()
        } else {
            line
        })),
    }
}

/// The `healthcheck` subcommand of `app`: probes the port in `PORT` (else `default_port`)
/// for 3 seconds; exit 0 when healthy, 1 when not, 2 for a bad `PORT`.
pub fn main(app: &str, default_port: u16) -> ExitCode {
    let port = match std::env::var("PORT").ok().filter(|p| !p.is_empty()) {
        None => default_port,
        Some(p) => match p.parse() {
            Ok(p) => p,
            Err(_) => {
                eprintln!("{app} healthcheck: PORT={p:?} is not a port");
                return ExitCode::from(2);
            }
        },
    };
    match probe_as(app, port, Duration::from_secs(3)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{app} healthcheck: {e}");
            ExitCode::FAILURE
        }
    }
}

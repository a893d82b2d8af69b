//! The API as a real process: started on a free port with a token, signalled, waited for. Its
//! stdout is read as it goes, as a container runtime's log driver does (a pipe nobody reads
//! would stop the log writer, and with it the exit).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::TOKEN;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Server {
    child: Child,
    pub port: u16,
    stdout: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How a process ended: its status and everything it wrote to stdout.
pub struct Exit {
    pub status: ExitStatus,
    pub stdout: String,
}

impl Server {
    /// Starts the API with the test token (and `env` on top) and waits until it is healthy.
    pub fn start(env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_api"));
        cmd.env_clear()
            .env("API_TOKEN", TOKEN)
            .env("PORT", port.to_string())
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/api.db", dir.path().display()),
            );
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let mut pipe = child.stdout.take().unwrap();
        let sink = stdout.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n @ 1..) = pipe.read(&mut buf) {
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let server = Server {
            child,
            port,
            stdout,
            reader: Some(reader),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while api::healthcheck::probe(port, Duration::from_secs(1)).is_err() {
            assert!(Instant::now() < deadline, "server did not become healthy");
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Sends `signal` (`TERM`, `INT`) to the process.
    pub fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// Waits up to `limit` for the process to exit. On expiry it says what the process's
    /// threads were waiting in, then kills it.
    pub fn wait_exit(mut self, limit: Duration) -> Result<Exit, String> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                if let Some(reader) = self.reader.take() {
                    let _ = reader.join();
                }
                let stdout = String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned();
                return Ok(Exit { status, stdout });
            }
            if Instant::now() >= deadline {
                let threads = threads_of(self.child.id());
                let _ = self.child.kill();
                return Err(format!(
                    "still running {limit:?} after the signal; threads: {threads}"
                ));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// `name:wchan` of each thread of `pid`, from /proc.
fn threads_of(pid: u32) -> String {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return "?".into();
    };
    let read = |p: std::path::PathBuf| std::fs::read_to_string(p).unwrap_or_default();
    dir.flatten()
        .map(|t| {
            format!(
                "{}:{}",
                read(t.path().join("comm")).trim(),
                read(t.path().join("wchan")).trim()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub const SLOW_BODY: &str = r#"{"data": {"slow": true}, "payment": "7.00"}"#;

/// Sends a request's head and the first part of its body, leaving it in flight.
pub fn start_slow_request(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "POST /create HTTP/1.1\r\nHost: x\r\nAuthorization: Token {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        SLOW_BODY.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&SLOW_BODY.as_bytes()[..10]).unwrap();
    s
}

/// Sends the rest of the body and returns the status line and the whole answer.
pub fn finish_slow_request(mut s: TcpStream) -> (String, String) {
    s.write_all(&SLOW_BODY.as_bytes()[10..]).unwrap();
    let mut out = String::new();
    let mut buf = [0u8; 4096];
    while !out.contains("\"payment\"") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
    let status = out.lines().next().unwrap_or_default().to_string();
    (status, out)
}

/// One authenticated `GET /` on a keep-alive connection; false once the server is gone or
/// closes the connection.
pub fn get_root(s: &mut TcpStream, buf: &mut Vec<u8>) -> bool {
    let req = format!("GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Token {TOKEN}\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return head.starts_with("http/1.1 200") && !head.contains("connection: close");
            }
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Runs `cmd` to its end, for at most `limit` (then kills it and says so).
pub fn output_within(cmd: &mut Command, limit: Duration) -> Result<std::process::Output, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() >= deadline {
            let threads = threads_of(child.id());
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still running after {limit:?}; threads: {threads}"));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(child.wait_with_output().unwrap())
}

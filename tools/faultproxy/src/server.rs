//! The listener, its connections and the handle returned to the caller.

use crate::config::FaultConfig;
use crate::handler::{Shared, handle};
use crate::stats::{FaultRecord, Stats};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

pub struct Proxy;

impl Proxy {
    /// Binds `127.0.0.1:{cfg.port}` and serves on the current tokio runtime until
    /// [`ProxyHandle::shutdown`] (or the handle is dropped).
    pub async fn start(cfg: FaultConfig) -> io::Result<ProxyHandle> {
        if !matches!(cfg.upstream.scheme(), "http") || cfg.upstream.host_str().is_none() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "upstream must be an http:// URL",
            ));
        }
        if !(0.0..=1.0).contains(&cfg.rate) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "rate must be within 0..=1",
            ));
        }
        let listener = TcpListener::bind(("127.0.0.1", cfg.port)).await?;
        let addr = listener.local_addr()?;
        tracing::info!(%addr, upstream = %cfg.upstream, seed = cfg.seed, rate = cfg.rate, "faultproxy listening");
        let shared = Arc::new(Shared::new(cfg));
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept_loop(listener, shared.clone(), stopped));
        Ok(ProxyHandle {
            addr,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    conns.spawn(serve(stream, shared.clone()));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            },
        }
    }
    conns.shutdown().await;
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let reset = Arc::new(AtomicBool::new(false));
    let io = TokioIo::new(Conn {
        io: stream,
        reset: reset.clone(),
    });
    let service = service_fn(move |req| handle(shared.clone(), reset.clone(), req));
    // An Err from the service (a reset fault) closes the connection without a response.
    let _ = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, service)
        .await;
}

/// A connection that ends with a TCP RST instead of a FIN when a fault asked for it.
struct Conn {
    io: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            let _ = self.io.set_zero_linger();
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// A running proxy. Dropping it stops the proxy too.
pub struct ProxyHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl ProxyHandle {
    /// The bound `127.0.0.1:port`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `http://127.0.0.1:port`, for `AWS_ENDPOINT_URL`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn stats(&self) -> Stats {
        self.shared.recorder().stats.clone()
    }
    /// Every request so far, in order (empty unless `FaultConfig::journal`).
    pub fn journal(&self) -> Vec<crate::classify::Call> {
        self.shared.recorder().journal.clone()
    }
    /// Every fault injected so far, in order.
    pub fn faults(&self) -> Vec<FaultRecord> {
        self.shared.recorder().log.clone()
    }
    /// Hook: every deployment of the ECS service `name` fails with stopped tasks giving
    /// `reason`, from its next DescribeServices/CreateService/UpdateService on.
    pub fn fail_deployments(&self, name: &str, reason: &str) {
        self.shared
            .world()
            .forced_failures
            .insert(name.to_string(), reason.to_string());
    }
    /// Undoes [`Self::fail_deployments`]; the next deployment of each service succeeds.
    pub fn clear_deployment_failures(&self) {
        self.shared.world().forced_failures.clear();
    }
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ProxyHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

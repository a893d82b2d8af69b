//! The data plane front: the load balancer and Fargate's part for one ECS service, following
//! the ECS emulation as a real account would.
//! - A task the emulation runs (ListTasks, DescribeTasks: RUNNING) gets its container in
//!   podman ([`super::dataplane`]), at the task's address the emulation gives.
//! - The front (plain HTTP on 127.0.0.1) sends each request to one of the containers whose
//!   target is `healthy` in DescribeTargetHealth, round robin, adding `X-Forwarded-For` as an
//!   Application Load Balancer does; none healthy: 503; the container failed: 502.
//! - A draining target gets no new request at once; the task's container gets SIGTERM only
//!   when ECS stops it (STOPPING, after the deregistration delay), then SIGKILL after its
//!   `stopTimeout`.
//! - Each answer carries [`REVISION_HEADER`]: the task definition revision of the task that
//!   served it (the test's view of which version answered; an ALB adds no such header).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_ecs::types::DesiredStatus;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

use super::dataplane::{ControlPlane, Task, try_run_task};

type Body = BoxBody<Bytes, hyper::Error>;

/// What happened, in order: task started, in service, out of service, stopped.
pub type Journal = Arc<Mutex<Vec<String>>>;

/// The response header naming the revision (`family:N`) of the task that answered.
pub const REVISION_HEADER: &str = "x-test-served-by";

/// Container port → the revision (`family:N`) its task runs.
type Revisions = Arc<Mutex<HashMap<u16, String>>>;

pub struct Balancer {
    pub url: String,
    pub journal: Journal,
    /// The ports of the containers in service now.
    pub pool: Arc<Mutex<Vec<u16>>>,
    revisions: Revisions,
    done: Arc<AtomicBool>,
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
    }
}

#[derive(Default)]
struct Entry {
    ip: String,
    task: Option<Arc<Task>>,
    starting: bool,
    stopped: bool,
}

impl Balancer {
    /// Follow ECS service `ecs_service` of `cluster`, in target group `group`.
    pub async fn start(
        cp: Arc<ControlPlane>,
        cluster: &str,
        ecs_service: &str,
        group: &str,
    ) -> Balancer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let pool: Arc<Mutex<Vec<u16>>> = Arc::default();
        let journal: Journal = Arc::default();
        let done = Arc::new(AtomicBool::new(false));
        let revisions: Revisions = Arc::default();
        tokio::spawn(front(
            listener,
            pool.clone(),
            revisions.clone(),
            done.clone(),
        ));
        let (c, s, g) = (
            cluster.to_string(),
            ecs_service.to_string(),
            group.to_string(),
        );
        let (p, j, d, r) = (
            pool.clone(),
            journal.clone(),
            done.clone(),
            revisions.clone(),
        );
        tokio::spawn(async move {
            let mut seen = Seen::default();
            while !d.load(Ordering::Relaxed) {
                reconcile(&cp, (&c, &s, &g), &mut seen, &p, &j, &r).await;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            for e in seen.tasks.into_values() {
                if let Some(t) = e.task {
                    let _ = tokio::task::spawn_blocking(move || drop(t)).await;
                }
            }
        });
        Balancer {
            url,
            journal,
            pool,
            revisions,
            done,
        }
    }

    /// The revisions (`family:N`) of the containers in service now, one per container.
    pub fn in_service(&self) -> Vec<String> {
        let revisions = self.revisions.lock().unwrap();
        let pool = self.pool.lock().unwrap();
        pool.iter()
            .map(|p| revisions.get(p).cloned().unwrap_or_default())
            .collect()
    }

    pub fn journal(&self) -> Vec<String> {
        self.journal.lock().unwrap().clone()
    }
}

/// A container being started for a task, and where it lands.
type Starting = (
    String,
    Arc<Mutex<Option<Arc<Task>>>>,
    tokio::task::JoinHandle<()>,
);

/// The tasks seen so far, and the containers being started.
#[derive(Default)]
struct Seen {
    tasks: HashMap<String, Entry>,
    starting: Vec<Starting>,
}

/// One round: start the containers of new tasks, stop those of stopping ones, put in service
/// the healthy targets' containers.
async fn reconcile(
    cp: &Arc<ControlPlane>,
    (cluster, service, group): (&str, &str, &str),
    seen: &mut Seen,
    pool: &Arc<Mutex<Vec<u16>>>,
    journal: &Journal,
    revisions: &Revisions,
) {
    let aws = &cp.aws;
    let tasks = &mut seen.tasks;
    let Ok(listed) = aws
        .ecs
        .list_tasks()
        .cluster(cluster)
        .service_name(service)
        .desired_status(DesiredStatus::Running)
        .send()
        .await
    else {
        return;
    };
    let mut arns: Vec<String> = listed.task_arns().to_vec();
    for arn in tasks.keys() {
        if !arns.contains(arn) {
            arns.push(arn.clone());
        }
    }
    if arns.is_empty() {
        return;
    }
    let Ok(described) = aws
        .ecs
        .describe_tasks()
        .cluster(cluster)
        .set_tasks(Some(arns))
        .send()
        .await
    else {
        return;
    };
    let Ok(health) = aws
        .elb
        .describe_target_health()
        .target_group_arn(group)
        .send()
        .await
    else {
        return;
    };
    let state: HashMap<String, String> = health
        .target_health_descriptions()
        .iter()
        .filter_map(|d| {
            Some((
                d.target()?.id()?.to_string(),
                d.target_health()?.state()?.as_str().to_string(),
            ))
        })
        .collect();
    for t in described.tasks() {
        let arn = t.task_arn().unwrap_or_default().to_string();
        let short = arn.rsplit('/').next().unwrap_or_default().to_string();
        let e = tasks.entry(arn.clone()).or_default();
        e.ip = t
            .attachments()
            .iter()
            .flat_map(|a| a.details())
            .find(|d| d.name() == Some("privateIPv4Address"))
            .and_then(|d| d.value())
            .unwrap_or_default()
            .to_string();
        match t.last_status().unwrap_or_default() {
            "RUNNING" if e.task.is_none() && !e.starting && !e.stopped => {
                e.starting = true;
                let (cp, td, journal, revisions) = (
                    cp.clone(),
                    t.task_definition_arn().unwrap_or_default().to_string(),
                    journal.clone(),
                    revisions.clone(),
                );
                // Started in the background; the next round finds it (or its failure).
                let slot = Arc::new(Mutex::new(None));
                let out = slot.clone();
                let started = tokio::spawn(async move {
                    let r = try_run_task(&cp, &td).await;
                    if let Ok(task) = &r {
                        let revision = td.rsplit('/').next().unwrap_or_default().to_string();
                        revisions.lock().unwrap().insert(task.port, revision);
                    }
                    journal.lock().unwrap().push(match &r {
                        Ok(task) => format!("started {short} on port {}", task.port),
                        Err(err) => format!("task {short} did not start: {err}"),
                    });
                    *out.lock().unwrap() = r.ok().map(Arc::new);
                });
                seen.starting.push((arn.clone(), slot, started));
            }
            "STOPPING" | "DEPROVISIONING" | "STOPPED" if !e.stopped => {
                e.stopped = true;
                if let Some(task) = e.task.take() {
                    journal
                        .lock()
                        .unwrap()
                        .push(format!("SIGTERM to {short} (port {})", task.port));
                    let journal = journal.clone();
                    tokio::task::spawn_blocking(move || {
                        let code = task.stop();
                        journal
                            .lock()
                            .unwrap()
                            .push(format!("{short} exited {code}"));
                        drop(task);
                    });
                }
            }
            _ => {}
        }
        // Done with: no longer asked about (DescribeTasks takes at most 100 tasks).
        if t.last_status() == Some("STOPPED") && e.stopped && e.task.is_none() && !e.starting {
            tasks.remove(&arn);
        }
    }
    // Containers that finished starting.
    let tasks = &mut seen.tasks;
    seen.starting.retain(|(arn, slot, handle)| {
        if !handle.is_finished() {
            return true;
        }
        if let Some(e) = tasks.get_mut(arn) {
            e.starting = false;
            e.task = slot.lock().unwrap().take();
        }
        false
    });
    let mut in_service: Vec<u16> = tasks
        .values()
        .filter(|e| !e.stopped && state.get(&e.ip).map(String::as_str) == Some("healthy"))
        .filter_map(|e| e.task.as_ref().map(|t| t.port))
        .collect();
    in_service.sort_unstable();
    let mut p = pool.lock().unwrap();
    if *p != in_service {
        journal
            .lock()
            .unwrap()
            .push(format!("in service: ports {in_service:?}"));
        *p = in_service;
    }
}

async fn front(
    listener: tokio::net::TcpListener,
    pool: Arc<Mutex<Vec<u16>>>,
    revisions: Revisions,
    done: Arc<AtomicBool>,
) {
    let client: Client<HttpConnector, Incoming> =
        Client::builder(TokioExecutor::new()).build_http();
    let next = Arc::new(AtomicUsize::new(0));
    while !done.load(Ordering::Relaxed) {
        let Ok((stream, peer)) = listener.accept().await else {
            return;
        };
        let (client, pool, next) = (client.clone(), pool.clone(), next.clone());
        let revisions = revisions.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                let (client, pool, next) = (client.clone(), pool.clone(), next.clone());
                let revisions = revisions.clone();
                async move {
                    let port = pick(&pool, &next);
                    let mut r = forward(req, peer.ip(), &client, port).await;
                    let revision = port.and_then(|p| revisions.lock().unwrap().get(&p).cloned());
                    if let Some(v) = revision.and_then(|v| v.parse().ok()) {
                        r.headers_mut().insert(REVISION_HEADER, v);
                    }
                    Ok::<_, Infallible>(r)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

fn status(code: StatusCode, text: &str) -> Response<Body> {
    let body = Full::new(Bytes::from(text.to_string()))
        .map_err(|never| match never {})
        .boxed();
    let mut r = Response::new(body);
    *r.status_mut() = code;
    r
}

/// The next container in service, round robin; None: none is.
fn pick(pool: &Mutex<Vec<u16>>, next: &AtomicUsize) -> Option<u16> {
    let pool = pool.lock().unwrap();
    (!pool.is_empty()).then(|| pool[next.fetch_add(1, Ordering::Relaxed) % pool.len()])
}

async fn forward(
    mut req: Request<Incoming>,
    client_ip: std::net::IpAddr,
    client: &Client<HttpConnector, Incoming>,
    port: Option<u16>,
) -> Response<Body> {
    let Some(port) = port else {
        return status(
            StatusCode::SERVICE_UNAVAILABLE,
            "503 Service Temporarily Unavailable",
        );
    };
    let path = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    *req.uri_mut() = format!("http://127.0.0.1:{port}{path}").parse().unwrap();
    let forwarded = match req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
    {
        Some(v) => format!("{v}, {client_ip}"),
        None => client_ip.to_string(),
    };
    req.headers_mut()
        .insert("x-forwarded-for", forwarded.parse().unwrap());
    match client.request(req).await {
        Ok(resp) => resp.map(|b| b.boxed()),
        Err(_) => status(StatusCode::BAD_GATEWAY, "502 Bad Gateway"),
    }
}

//! The data plane front: the load balancer and Fargate's part for one ECS service, following
//! the ECS emulation as a real account would.
//! - A task the emulation runs (ListTasks, DescribeTasks: RUNNING) gets its container in
//!   podman ([`super::dataplane`]), at the task's address the emulation gives.
//! - The front (plain HTTP on 127.0.0.1) sends each request to one of the containers whose
//!   target is `healthy` in DescribeTargetHealth, round robin, adding `X-Forwarded-For` as an
//!   Application Load Balancer does; none healthy: 503; the container failed: 502.
//! - Each request goes to a target group by the listener's weights (two with blue/green,
//!   canary or linear: `lb_weights`), then to a healthy container in it.
//! - A draining target gets no new request at once; the task's container gets SIGTERM only
//!   when ECS stops it (STOPPING, after the deregistration delay), then SIGKILL after its
//!   `stopTimeout`.
//! - Each answer carries [`REVISION_HEADER`]: the task definition revision of the task that
//!   served it (the test's view of which version answered; an ALB adds no such header).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
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
use super::lb_weights::{Routing, pick};

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
    /// The ports of the containers that get requests now.
    pub pool: Arc<Mutex<Vec<u16>>>,
    routing: Arc<Mutex<Routing>>,
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
    /// Follow ECS service `ecs_service` of `cluster`: in the target groups `listener`'s
    /// default action forwards to, by its weights, or else in `groups`.
    pub async fn start(
        cp: Arc<ControlPlane>,
        cluster: &str,
        ecs_service: &str,
        groups: Vec<String>,
        listener: Option<String>,
    ) -> Balancer {
        let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", socket.local_addr().unwrap());
        let pool: Arc<Mutex<Vec<u16>>> = Arc::default();
        let journal: Journal = Arc::default();
        let done = Arc::new(AtomicBool::new(false));
        let revisions: Revisions = Arc::default();
        let routing: Arc<Mutex<Routing>> = Arc::default();
        tokio::spawn(front(
            socket,
            routing.clone(),
            revisions.clone(),
            done.clone(),
        ));
        let (p, j, d, r, w) = (
            pool.clone(),
            journal.clone(),
            done.clone(),
            revisions.clone(),
            routing.clone(),
        );
        let at = Where {
            cluster: cluster.to_string(),
            service: ecs_service.to_string(),
            groups,
            listener,
        };
        tokio::spawn(async move {
            let mut seen = Seen::default();
            while !d.load(Ordering::Relaxed) {
                reconcile(&cp, &at, &mut seen, (&p, &w), &j, &r).await;
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
            routing,
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

/// What the front follows.
pub(super) struct Where {
    pub(super) cluster: String,
    pub(super) service: String,
    /// Without a listener: the groups, alike.
    pub(super) groups: Vec<String>,
    /// The listener whose default action names the groups and weighs them.
    pub(super) listener: Option<String>,
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
    at: &Where,
    seen: &mut Seen,
    (pool, routing): (&Arc<Mutex<Vec<u16>>>, &Arc<Mutex<Routing>>),
    journal: &Journal,
    revisions: &Revisions,
) {
    let (cluster, service) = (at.cluster.as_str(), at.service.as_str());
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
    // Target address → (its group's place, its state), and each group's weight.
    let Some((state, weights)) = super::lb_weights::read(cp, at).await else {
        return;
    };
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
    let mut groups: Vec<(i32, Vec<u16>)> = weights.iter().map(|w| (*w, vec![])).collect();
    for e in tasks.values().filter(|e| !e.stopped) {
        if let (Some((g, "healthy")), Some(t)) = (
            state.get(&e.ip).map(|(g, s)| (*g, s.as_str())),
            e.task.as_ref(),
        ) {
            groups[g].1.push(t.port);
        }
    }
    let mut in_service: Vec<u16> = groups
        .iter()
        .filter(|(w, _)| *w > 0)
        .flat_map(|(_, p)| p.iter().copied())
        .collect();
    for (_, ports) in &mut groups {
        ports.sort_unstable();
    }
    in_service.sort_unstable();
    {
        let mut r = routing.lock().unwrap();
        if r.groups != groups {
            r.scores = vec![0; groups.len()];
            r.groups = groups;
        }
    }
    let mut p = pool.lock().unwrap();
    if *p != in_service {
        journal.lock().unwrap().push(format!(
            "in service: ports {in_service:?}, weights {weights:?}"
        ));
        *p = in_service;
    }
}

async fn front(
    listener: tokio::net::TcpListener,
    routing: Arc<Mutex<Routing>>,
    revisions: Revisions,
    done: Arc<AtomicBool>,
) {
    let client: Client<HttpConnector, Incoming> =
        Client::builder(TokioExecutor::new()).build_http();
    while !done.load(Ordering::Relaxed) {
        let Ok((stream, peer)) = listener.accept().await else {
            return;
        };
        let (client, routing) = (client.clone(), routing.clone());
        let revisions = revisions.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                let (client, routing) = (client.clone(), routing.clone());
                let revisions = revisions.clone();
                async move {
                    let port = pick(&routing);
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

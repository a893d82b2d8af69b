//! One request: classify, maybe inject, forward, learn, maybe rewrite.

use crate::classify::{Call, Protocol, classify_request};
use crate::config::FaultConfig;
use crate::decide::{self, Dice, Generic};
use crate::stats::{FaultKind, FaultRecord, Recorder};
use crate::wire::{self, AwsError, Body, render};
use crate::world::{Ctx, World};
use crate::{
    alb, consistency, dependency, deploy, ecs_history_calls, ecs_learn, ecs_task_calls, ecs_view,
    refusals, roles, zones,
};
use bytes::Bytes;
use http::header::{CONTENT_LENGTH, HOST};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

// Questions to the upstream before deciding (refusals that need the account's state).
#[path = "ecs_weights.rs"]
mod ecs_weights;
#[path = "probe.rs"]
mod probe;
#[path = "upstream.rs"]
mod upstream;
use upstream::{Upstream, answered, hop_by_hop, respond};

pub struct Shared {
    cfg: FaultConfig,
    client: Client<HttpConnector, Full<Bytes>>,
    /// `http://host:port` of the upstream.
    base: String,
    authority: String,
    recorder: Mutex<Recorder>,
    world: Mutex<World>,
}

/// The service's error: hyper closes the connection without a response.
#[derive(Debug)]
pub struct Dropped;
impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}
impl std::error::Error for Dropped {}

impl Shared {
    pub fn new(cfg: FaultConfig) -> Self {
        let host = cfg.upstream.host_str().unwrap_or("127.0.0.1").to_string();
        let authority = match cfg.upstream.port_or_known_default() {
            Some(p) => format!("{host}:{p}"),
            None => host,
        };
        let client = Client::builder(TokioExecutor::new()).build_http();
        Shared {
            base: format!("http://{authority}"),
            authority,
            cfg,
            client,
            recorder: Default::default(),
            world: Default::default(),
        }
    }
    pub fn recorder(&self) -> MutexGuard<'_, Recorder> {
        self.recorder.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, seq: u64, call: &Call, n: u64, kind: FaultKind, detail: String) {
        tracing::warn!(seed = self.cfg.seed, seq, n, call = %call.key(), kind = %kind, detail = %detail, "fault injected");
        self.recorder().fault(FaultRecord {
            seq,
            key: call.key(),
            n,
            kind,
            detail,
        });
    }

    async fn forward(&self, parts: &http::request::Parts, body: Bytes) -> Result<Upstream, String> {
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let mut req = Request::builder()
            .method(parts.method.clone())
            .uri(format!("{}{path}", self.base));
        // The Host header goes through unchanged: it is part of what SigV4 signs, and moto
        // checks signatures when it enforces IAM.
        for (k, v) in &parts.headers {
            if k != CONTENT_LENGTH && !hop_by_hop(k) {
                req = req.header(k, v);
            }
        }
        if !parts.headers.contains_key(HOST) {
            req = req.header(HOST, &self.authority);
        }
        let req = req.body(Full::new(body)).map_err(|e| e.to_string())?;
        let resp = self.client.request(req).await.map_err(|e| e.to_string())?;
        let (p, b) = resp.into_parts();
        let body = b.collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok(Upstream {
            status: p.status,
            headers: p.headers,
            body,
        })
    }
}

pub async fn handle(
    shared: Arc<Shared>,
    reset: Arc<AtomicBool>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Dropped> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(|_| Dropped)?.to_bytes();
    let call = classify_request(&parts, &body);
    let (seq, n) = shared.recorder().call(&call, shared.cfg.journal);
    tracing::debug!(seq, n, call = %call.key(), protocol = %call.protocol, "request");
    if call.protocol == Protocol::Other {
        return Ok(respond(shared.forward(&parts, body).await));
    }
    let cfg = &shared.cfg;
    let (mut gdice, mut rdice) = Dice::for_call(cfg.seed, &call.key(), n);
    let generic = decide::generic(&mut gdice, cfg);
    let request_id = gdice.request_id();
    let p = call.protocol;
    let reject = |kind: FaultKind, err: AwsError| {
        shared.record(seq, &call, n, kind, format!("{} {}", err.status, err.code));
        Ok(render(p, &call.service, &err, &request_id))
    };
    match generic {
        Some(Generic::Error(kind)) => {
            let err = match kind {
                FaultKind::Throttle => wire::throttle(p, false),
                FaultKind::TooManyRequests => wire::throttle(p, true),
                FaultKind::Unavailable => wire::unavailable(p),
                _ => wire::internal(p, &call.service),
            };
            return reject(kind, err);
        }
        Some(Generic::ConnectionReset) => {
            shared.record(
                seq,
                &call,
                n,
                FaultKind::ConnectionReset,
                "reset before forwarding".into(),
            );
            reset.store(true, Ordering::SeqCst);
            return Err(Dropped);
        }
        _ => {}
    }

    // ECS's writes on the production rules of blue/green-family deployments, due by now.
    shared.sync_weights(&parts, &call, n).await;
    // Situational rules, decided before the request can reach the upstream.
    let now = Instant::now();
    let (pre, emulated, sg, split, stopped) = {
        let mut world = shared.world();
        let mut ctx = Ctx {
            cfg,
            now,
            dice: &mut rdice,
        };
        let pre = consistency::check(&call, &world, &ctx)
            .map(|e| (FaultKind::NotFound, e))
            .or_else(|| roles::check(&call, &world, &ctx).map(|e| (FaultKind::RoleNotAssumable, e)))
            .or_else(|| {
                dependency::check_drain(&call, &world, &ctx).map(|e| (FaultKind::EniDrain, e))
            });
        // What real AWS answers (not faults: the services' behaviour).
        let emulated = ecs_learn::check(&call, &world, &ctx)
            .or_else(|| ecs_task_calls::refuse(&call, &world, &ctx))
            .or_else(|| refusals::check(&call, &world, &ctx));
        let sg = dependency::sg_to_check(&call, &mut ctx);
        let split = deploy::split_describe_tasks(&call, &world, &ctx);
        let free = pre.is_none() && emulated.is_none();
        // StopTask, StopServiceDeployment, the history calls: ECS answers them (moto does not).
        let stopped = free.then(|| ecs_history_calls::answered(&call, &mut world, &ctx, n));
        (pre, emulated, sg, split, stopped)
    };
    if let Some((kind, err)) = pre {
        return reject(kind, err);
    }
    if let Some(err) = emulated {
        // What real ECS answers (not a fault: the emulation's behaviour).
        tracing::debug!(seq, call = %call.key(), code = %err.code, "ecs emulation refused");
        return Ok(render(p, &call.service, &err, &request_id));
    }
    match stopped {
        Some(Some(Ok(body))) => return Ok(respond(Ok(answered(p, &request_id, body.into())))),
        Some(Some(Err(err))) => return Ok(render(p, &call.service, &err, &request_id)),
        _ => {}
    }
    if let Some(group) = sg
        && let Some(by) = shared.sg_referenced_by(&parts, group).await
    {
        shared.record(
            seq,
            &call,
            n,
            FaultKind::SgReferenced,
            format!("400 DependencyViolation: {group} referenced by {by}"),
        );
        return Ok(render(
            p,
            &call.service,
            &dependency::sg_referenced(group),
            &request_id,
        ));
    }

    match shared.probed(&parts, &call).await {
        Some(Err(err)) => {
            tracing::debug!(seq, call = %call.key(), code = %err.code, "refused as AWS would");
            return Ok(render(p, &call.service, &err, &request_id));
        }
        Some(Ok(answer)) => {
            // AWS's own answer (an existing target group with the same settings).
            let mut headers = HeaderMap::new();
            headers.insert("content-type", "text/xml".parse().expect("header"));
            return Ok(respond(Ok(Upstream {
                status: StatusCode::OK,
                headers,
                body: answer,
            })));
        }
        None => {}
    }

    let (forward_body, synthetic) = match split {
        Some((fwd, tasks)) => (fwd.map(Bytes::from), Some(tasks)),
        None => (Some(body), None),
    };
    let forwarded = forward_body.is_some();
    let mut up = match forward_body {
        Some(b) => match shared.forward(&parts, b).await {
            Ok(up) => up,
            Err(e) => return Ok(respond(Err(e))),
        },
        None => answered(p, &request_id, Bytes::new()),
    };

    if !up.status.is_success() {
        let mut world = shared.world();
        let ctx = Ctx {
            cfg,
            now: Instant::now(),
            dice: &mut rdice,
        };
        let status = up.status.as_u16();
        if let Some(err) = refusals::answer_failure(&call, status, &up.body, &mut world, &ctx) {
            return Ok(render(p, &call.service, &err, &request_id));
        }
    }
    if up.status.is_success() {
        let mut world = shared.world();
        let mut ctx = Ctx {
            cfg,
            now: Instant::now(),
            dice: &mut rdice,
        };
        // The ECS emulation draws from its own stream: it shifts no fault decision.
        let mut edice = Dice::for_emulation(cfg.seed, &call.key(), n);
        let mut ectx = Ctx {
            cfg,
            now: ctx.now,
            dice: &mut edice,
        };
        consistency::learn(&call, &up.body, &mut world, &mut ctx);
        refusals::learn(&call, &mut world, &ctx);
        roles::learn(&call, &up.body, &mut world, &mut ctx);
        dependency::learn(&call, &mut world, &mut ctx);
        alb::learn(&call, &up.body, &mut world, &mut ctx);
        ecs_task_calls::learn(&call, &mut world);
        // Before `deploy` decides whether the new deployment fails: the emulation first
        // catches up with the previous one's.
        ecs_learn::learn(&call, &up.body, &mut world, &mut ectx);
        deploy::learn(&call, &up.body, &mut world, &mut ctx);
        let fixed = zones::rewrite(&call, &up.body)
            .or_else(|| refusals::rewrite(&call, &up.body, &world, &ctx));
        if let Some(b) = fixed {
            up.body = Bytes::from(b);
        }
        let synthesized = up.headers.contains_key(ecs_view::SYNTHESIZED);
        if let Some(b) = ecs_view::rewrite(&call, &up.body, synthesized, &mut world, &mut ectx) {
            up.body = Bytes::from(b);
            if call.is("elasticloadbalancing", "DescribeTargetHealth") {
                up.headers
                    .insert(ecs_view::SYNTHESIZED, "targets".parse().expect("header"));
            }
        }
        let mut rewritten = None;
        if let Some((b, arns)) = alb::rewrite(&call, &up.body, &world, &ctx) {
            rewritten = Some((
                FaultKind::AlbProvisioning,
                b,
                format!("provisioning: {}", arns.join(",")),
            ));
        } else if let Some(b) = deploy::rewrite_services(&call, &up.body, &mut world, &mut ctx) {
            rewritten = Some((FaultKind::DeploymentFailed, b, "rolloutState FAILED".into()));
        } else if let Some(b) = deploy::rewrite_list_tasks(&call, &up.body, &world) {
            rewritten = Some((
                FaultKind::DeploymentFailed,
                b,
                "stopped tasks listed".into(),
            ));
        } else if let Some(tasks) = synthetic {
            let body = forwarded.then_some(&up.body[..]);
            rewritten = Some((
                FaultKind::DeploymentFailed,
                deploy::merge_tasks(body, tasks),
                "stopped tasks described".into(),
            ));
        }
        drop(world);
        if let Some((kind, b, detail)) = rewritten {
            shared.record(seq, &call, n, kind, detail);
            up.body = Bytes::from(b);
        }
    }

    match generic {
        Some(Generic::ResponseLost) => {
            shared.record(
                seq,
                &call,
                n,
                FaultKind::ResponseLost,
                format!("forwarded ({}), response dropped", up.status.as_u16()),
            );
            reset.store(true, Ordering::SeqCst);
            Err(Dropped)
        }
        Some(Generic::Slow(delay)) => {
            shared.record(
                seq,
                &call,
                n,
                FaultKind::Slow,
                format!("delayed {} ms", delay.as_millis()),
            );
            tokio::time::sleep(delay).await;
            Ok(respond(Ok(up)))
        }
        _ => Ok(respond(Ok(up))),
    }
}

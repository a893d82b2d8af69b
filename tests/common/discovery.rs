//! Private names as the VPC would resolve them, for the tasks the data plane runs. A task
//! whose environment holds a URL under one of the account's private DNS namespaces (Cloud
//! Map) gets that name in its /etc/hosts, pointing at a forwarder of its own on a loopback
//! address. On each connection the forwarder does what AWS would:
//! - resolves the name through Cloud Map: the namespace of that name, the service of that
//!   label in it, and the ECS service registering its tasks there (`serviceRegistries`); a
//!   name with no registered ECS service does not resolve (the connection is closed);
//! - checks the security groups in the emulator: one of the callee's groups must admit one of
//!   the caller's groups on the port (an ingress rule from the group, TCP, port in range), as
//!   the VPC would; otherwise the connection is dropped;
//! - passes the bytes to one of the callee's tasks the data plane runs (round robin).
//!
//! The rules are read at each connection, so revoking one cuts the next call, as on AWS.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use stackctl::aws::Aws;
use tokio::net::TcpStream;

use super::dataplane::ControlPlane;

/// What a forwarder knows of its caller and of the name it answers for.
#[derive(Clone, Debug)]
pub struct Route {
    /// The caller's ECS service name, and the cluster it runs in.
    pub cluster: String,
    pub caller: String,
    /// `users.demo-default.internal` and the port the caller dials.
    pub host: String,
    pub port: u16,
}

/// Tasks the data plane runs, by ECS service name: their local ports.
pub type Running = Arc<std::sync::Mutex<BTreeMap<String, Vec<u16>>>>;

/// Why a connection found nothing, as a caller would see it.
#[derive(Debug, PartialEq)]
pub enum Refused {
    /// The name does not resolve (no namespace, no Cloud Map service, no ECS service in it).
    NoSuchHost(String),
    /// The security groups do not let the caller in.
    Blocked(String),
    /// Resolved, allowed, but no task of the callee is running.
    NoTask(String),
}

/// The callee's local port for a connection on `r`, or why there is none.
pub async fn resolve(aws: &Aws, running: &Running, r: &Route) -> Result<u16, Refused> {
    let (label, namespace) = r
        .host
        .split_once('.')
        .ok_or_else(|| Refused::NoSuchHost(r.host.clone()))?;
    let registry = registry_arn(aws, namespace, label)
        .await
        .ok_or_else(|| Refused::NoSuchHost(r.host.clone()))?;
    let services = super::ecs_services(aws, &r.cluster).await;
    let callee = services
        .iter()
        .find(|s| {
            s.service_registries()
                .iter()
                .any(|g| g.registry_arn() == Some(registry.as_str()))
        })
        .ok_or_else(|| Refused::NoSuchHost(r.host.clone()))?;
    let caller = services
        .iter()
        .find(|s| s.service_name() == Some(r.caller.as_str()))
        .ok_or_else(|| Refused::Blocked(format!("{} is not a service", r.caller)))?;
    let groups = |s: &aws_sdk_ecs::types::Service| {
        s.network_configuration()
            .and_then(|n| n.awsvpc_configuration())
            .map(|v| v.security_groups().to_vec())
            .unwrap_or_default()
    };
    if !admits(aws, &groups(callee), &groups(caller), r.port).await {
        return Err(Refused::Blocked(format!(
            "no rule of {}'s groups admits {}'s on port {}",
            callee.service_name().unwrap_or_default(),
            r.caller,
            r.port
        )));
    }
    let name = callee.service_name().unwrap_or_default().to_string();
    let ports = running
        .lock()
        .unwrap()
        .get(&name)
        .cloned()
        .unwrap_or_default();
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    match ports.len() {
        0 => Err(Refused::NoTask(name)),
        n => Ok(ports[NEXT.fetch_add(1, Ordering::Relaxed) % n]),
    }
}

/// The ARN of Cloud Map service `label` in the private DNS namespace named `namespace`.
async fn registry_arn(aws: &Aws, namespace: &str, label: &str) -> Option<String> {
    let namespaces = aws.discovery.list_namespaces().send().await.ok()?;
    let ns = namespaces
        .namespaces()
        .iter()
        .find(|n| n.name() == Some(namespace))?
        .id()?
        .to_string();
    let filter = aws_sdk_servicediscovery::types::ServiceFilter::builder()
        .name(aws_sdk_servicediscovery::types::ServiceFilterName::NamespaceId)
        .values(ns)
        .build()
        .ok()?;
    let services = aws
        .discovery
        .list_services()
        .filters(filter)
        .send()
        .await
        .ok()?;
    services
        .services()
        .iter()
        .find(|s| s.name() == Some(label))
        .and_then(|s| s.arn().map(str::to_string))
}

/// Whether one of `to` admits one of `from` on TCP `port` (security group ingress by group).
async fn admits(aws: &Aws, to: &[String], from: &[String], port: u16) -> bool {
    let Ok(out) = aws
        .ec2
        .describe_security_groups()
        .set_group_ids(Some(to.to_vec()))
        .send()
        .await
    else {
        return false;
    };
    let port = i32::from(port);
    out.security_groups().iter().any(|g| {
        g.ip_permissions().iter().any(|p| {
            let proto = p.ip_protocol().unwrap_or_default();
            let ports = p.from_port().unwrap_or(0) <= port && port <= p.to_port().unwrap_or(65535);
            (proto == "-1" || proto == "tcp" && ports)
                && p.user_id_group_pairs().iter().any(|pair| {
                    pair.group_id()
                        .is_some_and(|id| from.iter().any(|f| f == id))
                })
        })
    })
}

/// Starts the forwarder for `r`; returns the loopback address the caller's /etc/hosts maps
/// `r.host` to.
pub async fn forwarder(cp: &ControlPlane, r: Route) -> (Ipv4Addr, tokio::task::JoinHandle<()>) {
    let (listener, address) = super::rds::listen(r.port).await;
    let (aws, running) = (cp.aws_handle(), cp.running.clone());
    let task = tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let (aws, running, r) = (aws.clone(), running.clone(), r.clone());
            tokio::spawn(async move {
                match resolve(&aws, &running, &r).await {
                    Ok(port) => {
                        if let Ok(mut out) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await {
                            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                        }
                    }
                    // Dropped, as the VPC drops what no rule admits (a caller times out on
                    // AWS; here it sees the connection closed at once).
                    Err(why) => eprintln!(
                        "[dataplane] {}:{} from {}: {why:?}",
                        r.host, r.port, r.caller
                    ),
                }
            });
        }
    });
    (address, task)
}

/// The private names in `environment` (values `http://<label>.<namespace>:<port>…` whose
/// namespace is one of the account's private DNS namespaces): (host, port).
pub async fn private_names(aws: &Aws, environment: &[(String, String)]) -> Vec<(String, u16)> {
    let Ok(out) = aws.discovery.list_namespaces().send().await else {
        return vec![];
    };
    let namespaces: Vec<String> = out
        .namespaces()
        .iter()
        .filter_map(|n| n.name().map(str::to_string))
        .collect();
    let mut found = Vec::new();
    for (_, value) in environment {
        let Ok(url) = url::Url::parse(value) else {
            continue;
        };
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            continue;
        };
        let private = namespaces
            .iter()
            .any(|ns| host.ends_with(&format!(".{ns}")));
        if private && !found.iter().any(|(h, p)| h == host && *p == port) {
            found.push((host.to_string(), port));
        }
    }
    found
}

/// A task started for an ECS service, and the names its /etc/hosts maps to its forwarders.
pub struct Started {
    pub task: super::dataplane::Task,
    pub hosts: Vec<(String, Ipv4Addr)>,
    forwarders: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Started {
    fn drop(&mut self) {
        for f in &self.forwarders {
            f.abort();
        }
    }
}

/// Starts a task of ECS service `service` (its current task definition) in cluster `cluster`,
/// with the private names its environment uses resolving through forwarders of its own, and
/// counts it among the service's running tasks (which callers reach) until it is dropped.
pub async fn run(cp: &ControlPlane, cluster: &str, service: &str) -> Result<Started, String> {
    let out = cp
        .aws
        .ecs
        .describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
        .map_err(|e| format!("describe {service}: {e:?}"))?;
    let s = out
        .services()
        .first()
        .ok_or(format!("no service {service}"))?;
    let td = s.task_definition().unwrap_or_default().to_string();
    let c = super::dataplane::container(&cp.aws, &td).await;
    let secrets = super::secrets::resolve(cp, &c).await?;
    let env: Vec<(String, String)> = c
        .environment()
        .iter()
        .filter_map(|kv| Some((kv.name()?.to_string(), kv.value()?.to_string())))
        .collect();
    let mut hosts = cp.hosts.lock().unwrap().clone();
    let (mut forwarders, mut private) = (Vec::new(), Vec::new());
    for (host, port) in private_names(&cp.aws, &env).await {
        let route = Route {
            cluster: cluster.to_string(),
            caller: service.to_string(),
            host: host.clone(),
            port,
        };
        let (address, task) = forwarder(cp, route).await;
        hosts.push((host.clone(), address.to_string()));
        private.push((host, address));
        forwarders.push(task);
    }
    let mut task = super::dataplane::start_with_hosts(&c, &secrets, &hosts).await?;
    let mut running = cp.running.lock().unwrap();
    running
        .entry(service.to_string())
        .or_default()
        .push(task.port);
    task.service = Some((cp.running.clone(), service.to_string()));
    Ok(Started {
        task,
        hosts: private,
        forwarders,
    })
}

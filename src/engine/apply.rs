//! Carry out a plan: independent changes run concurrently, each as soon as what it
//! depends on is done. A failure stops only what depends on it.

use std::sync::Mutex;

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use super::progress::Progress;
use crate::aws::{self, Aws, AwsError};
use crate::names::Names;
use crate::plan::{self, Action, Change, Desired, Ids, Observed, Peer, Spec, State};

#[derive(Debug, thiserror::Error)]
#[error("{} of {} changes failed", failed.len(), total)]
pub struct ApplyError {
    pub failed: Vec<(String, AwsError)>,
    pub skipped: Vec<String>,
    pub total: usize,
}

pub(super) struct Run<'a> {
    pub(super) aws: &'a Aws,
    pub(super) names: &'a Names,
    pub(super) desired: &'a [Desired],
    pub(super) observed: &'a [Observed],
    pub(super) ids: Mutex<Ids>,
}

pub async fn apply(
    aws: &Aws,
    names: &Names,
    desired: &[Desired],
    observed: &[Observed],
    plan: &plan::Plan,
    ids: Ids,
    progress: &Progress,
) -> Result<Ids, ApplyError> {
    let deps = plan::order(plan, desired);
    let run = Run {
        aws,
        names,
        desired,
        observed,
        ids: Mutex::new(ids),
    };
    let n = plan.changes.len();
    let mut state = vec![Status::Waiting; n];
    let mut failed = Vec::new();
    let mut running = FuturesUnordered::new();
    loop {
        for i in 0..n {
            if state[i] != Status::Waiting {
                continue;
            }
            if deps[i]
                .iter()
                .any(|d| matches!(state[*d], Status::Failed | Status::Skipped))
            {
                state[i] = Status::Skipped;
            } else if deps[i].iter().all(|d| state[*d] == Status::Done) {
                state[i] = Status::Running;
                let change = &plan.changes[i];
                let task = progress.start(label(change));
                let run = &run;
                running.push(async move { (i, task, run.execute(change).await) });
            }
        }
        let Some((i, task, result)) = running.next().await else {
            break;
        };
        match result {
            Ok(outcome) => {
                progress.finish(task, &outcome);
                state[i] = Status::Done;
            }
            Err(e) => {
                progress.finish(task, &format!("failed: {e}"));
                state[i] = Status::Failed;
                failed.push((plan.changes[i].key.0.clone(), e));
            }
        }
    }
    let skipped: Vec<String> = (0..n)
        .filter(|i| state[*i] == Status::Skipped)
        .map(|i| plan.changes[i].key.0.clone())
        .collect();
    drop(running);
    if failed.is_empty() && skipped.is_empty() {
        Ok(run.ids.into_inner().expect("ids"))
    } else {
        Err(ApplyError {
            failed,
            skipped,
            total: n,
        })
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Status {
    Waiting,
    Running,
    Done,
    Failed,
    Skipped,
}

fn label(c: &Change) -> String {
    let verb = match c.action {
        Action::Create { .. } => "create",
        Action::Update { .. } => "update",
        Action::Delete { .. } => "delete",
        Action::Blocked { .. } => "check",
    };
    format!("{verb} {} {}", c.kind.label(), c.name)
}

impl Run<'_> {
    pub(super) fn id(&self, key: &plan::Key) -> Result<String, AwsError> {
        self.ids
            .lock()
            .expect("ids")
            .get(key)
            .cloned()
            .ok_or_else(|| AwsError::new("resolve", key, "not created yet"))
    }

    fn observed(&self, change: &Change) -> Option<&Observed> {
        self.observed.iter().find(|o| o.key == change.key)
    }

    async fn execute(&self, change: &Change) -> Result<String, AwsError> {
        match &change.action {
            Action::Create { spec } => {
                let id = self.create(change, spec).await?;
                self.ids
                    .lock()
                    .expect("ids")
                    .insert(change.key.clone(), id.clone());
                Ok(format!("created {id}"))
            }
            Action::Update { fixes } => {
                let have = self
                    .observed(change)
                    .ok_or_else(|| AwsError::new("update", &change.key, "not observed"))?;
                for fix in fixes {
                    self.fix(have, fix).await?;
                }
                Ok(fixes
                    .iter()
                    .map(|f| f.to_string())
                    .collect::<Vec<_>>()
                    .join(", "))
            }
            Action::Delete { id } => {
                let have = self
                    .observed
                    .iter()
                    .find(|o| &o.id == id)
                    .ok_or_else(|| AwsError::new("delete", id, "not observed"))?;
                self.delete(have).await?;
                Ok(format!("deleted {id}"))
            }
            Action::Blocked { reason } => Err(AwsError::new("change", &change.key, reason.clone())),
        }
    }

    async fn create(&self, c: &Change, spec: &Spec) -> Result<String, AwsError> {
        let (aws, names, key, name) = (self.aws, self.names, &c.key, c.name.as_str());
        match spec {
            Spec::Vpc { cidr } => aws::vpc::create(aws, names, key, cidr).await,
            Spec::Subnet { cidr, az, vpc } => {
                aws::subnet::create(aws, names, key, name, cidr, az, &self.id(vpc)?).await
            }
            Spec::InternetGateway { vpc } => {
                aws::igw::create(aws, names, key, &self.id(vpc)?).await
            }
            Spec::RouteTable {
                vpc,
                gateway,
                subnets,
            } => {
                let subnets = subnets
                    .iter()
                    .map(|s| self.id(s))
                    .collect::<Result<Vec<_>, _>>()?;
                aws::route_table::create(
                    aws,
                    names,
                    key,
                    &self.id(vpc)?,
                    &self.id(gateway)?,
                    &subnets,
                )
                .await
            }
            Spec::SecurityGroup {
                vpc,
                description,
                ingress,
            } => {
                let id =
                    aws::security_group::create(aws, names, key, name, description, &self.id(vpc)?)
                        .await?;
                let rules = ingress
                    .iter()
                    .map(|r| self.resolved(r))
                    .collect::<Result<Vec<_>, _>>()?;
                aws::security_group::authorize(aws, &id, &rules).await?;
                Ok(id)
            }
            Spec::Repository {
                lifecycle_policy, ..
            } => aws::ecr::create(aws, names, key, name, lifecycle_policy).await,
            Spec::LogGroup { retention_days } => {
                aws::logs::create(aws, names, key, name, *retention_days).await
            }
            Spec::Role {
                path,
                trust_policy,
                managed,
                inline,
            } => {
                let id = aws::iam::create(aws, names, key, name, path, trust_policy).await?;
                for arn in managed {
                    aws::iam::attach(aws, name, arn).await?;
                }
                for (policy, doc) in inline {
                    aws::iam::put_inline(aws, name, policy, doc).await?;
                }
                Ok(id)
            }
            Spec::Parameter { description } => {
                aws::ssm::create(aws, names, key, name, description).await
            }
            Spec::Cluster { .. } => aws::cluster::create(aws, names, key).await,
            Spec::LoadBalancer {
                subnets,
                security_group,
                ..
            } => {
                let subnets = subnets
                    .iter()
                    .map(|s| self.id(s))
                    .collect::<Result<Vec<_>, _>>()?;
                aws::load_balancer::create(aws, names, key, &subnets, &self.id(security_group)?)
                    .await
            }
            Spec::TargetGroup {
                vpc,
                port,
                health,
                deregistration_delay,
            } => {
                aws::target_group::create(
                    aws,
                    names,
                    key,
                    name,
                    &self.id(vpc)?,
                    *port,
                    health,
                    *deregistration_delay,
                )
                .await
            }
            Spec::TaskDefinition { def } => {
                aws::task_definition::register(aws, names, key, name, def).await
            }
            Spec::Service(s) => {
                let settings = self.settings(s)?;
                aws::service::create(aws, names, key, name, &settings).await
            }
            Spec::Listener {
                load_balancer,
                target_group,
            } => {
                aws::listener::create(
                    aws,
                    names,
                    key,
                    &self.id(load_balancer)?,
                    &self.id(target_group)?,
                )
                .await
            }
        }
    }

    pub(super) fn settings<'s>(
        &self,
        s: &'s plan::ServiceSpec,
    ) -> Result<aws::service::Settings<'s>, AwsError> {
        Ok(aws::service::Settings {
            task_definition: self.id(&s.task_definition)?,
            desired: s.desired,
            subnets: s
                .subnets
                .iter()
                .map(|k| self.id(k))
                .collect::<Result<_, _>>()?,
            security_group: self.id(&s.security_group)?,
            target_group: s
                .target_group
                .as_ref()
                .map(|(tg, _)| self.id(tg))
                .transpose()?,
            container: &s.container,
            port: s.port,
            grace_seconds: s.grace_seconds,
        })
    }

    /// `rule` with a group of this stack replaced by its id.
    pub(super) fn resolved(&self, rule: &plan::Rule) -> Result<plan::Rule, AwsError> {
        let peer = match &rule.peer {
            Peer::Group(k) => Peer::GroupId(self.id(k)?),
            other => other.clone(),
        };
        Ok(plan::Rule {
            peer,
            ..rule.clone()
        })
    }

    async fn delete(&self, have: &Observed) -> Result<(), AwsError> {
        let (aws, id) = (self.aws, have.id.as_str());
        match &have.state {
            State::Vpc { .. } => aws::vpc::delete(aws, id).await,
            State::Subnet { .. } => aws::subnet::delete(aws, id).await,
            State::InternetGateway { attached_vpc } => {
                aws::igw::delete(aws, id, attached_vpc.as_deref()).await
            }
            State::RouteTable { associations, .. } => {
                aws::route_table::delete(aws, id, associations).await
            }
            State::SecurityGroup { .. } => aws::security_group::delete(aws, id).await,
            State::Repository { .. } => aws::ecr::delete(aws, id).await,
            State::LogGroup { .. } => aws::logs::delete(aws, id).await,
            State::Role {
                managed, inline, ..
            } => aws::iam::delete(aws, id, managed, inline).await,
            State::Parameter { .. } => aws::ssm::delete(aws, id).await,
            State::Cluster { .. } => aws::cluster::delete(aws, id).await,
            State::LoadBalancer { .. } => aws::load_balancer::delete(aws, id).await,
            State::TargetGroup { .. } => aws::target_group::delete(aws, id).await,
            State::Listener { .. } => aws::listener::delete(aws, id).await,
            State::TaskDefinition { .. } => {
                let leftover = aws::task_definition::is_leftover(&have.key);
                aws::task_definition::delete(aws, &have.name, leftover).await
            }
            State::Service(_) => aws::service::delete(aws, self.names, id).await,
        }
    }
}

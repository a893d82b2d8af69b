//! The ECS cluster, with the Fargate and Fargate Spot capacity providers.

use aws_sdk_ecs::types::{CapacityProviderStrategyItem, Tag};
use serde::Serialize;
use serde_json::{Value, json};

use super::service_linked_role;
use super::kind::{Cx, Resource};
use super::permissions::{CLUSTER, Cmd, Permission, Scope};
use super::retry::{Backoff, delete_draining, retry};
use super::{Aws, AwsError, Ctx};
use crate::names::Names;
use crate::plan::{self, Ids, Key, Kind, Observed, desired};

/// The ECS cluster, with the Fargate and Fargate Spot capacity providers.
pub struct Cluster;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    pub capacity_providers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub status: String,
    pub capacity_providers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    CapacityProviders,
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::CapacityProviders => {
                write!(f, "use the FARGATE and FARGATE_SPOT capacity providers")
            }
        }
    }
}

impl Resource for Cluster {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("ecs:DescribeClusters", Scope::Arns("TheStacksCluster", CLUSTER), &[Up, RotateToken, Status, Logs, Down, Check]),
            ("ecs:CreateCluster", Scope::Arns("TheStacksCluster", CLUSTER), &[Up]),
            ("ecs:PutClusterCapacityProviders", Scope::Arns("TheStacksCluster", CLUSTER), &[Up]),
            ("ecs:DeleteCluster", Scope::Arns("TheStacksCluster", CLUSTER), &[Down]),
        ]
    };

    /// ECS refuses CreateCluster until the account has its service-linked role.
    fn deps(_: &Spec) -> Vec<Key> {
        vec![desired::ecs_service_linked_role()]
    }

    fn delete_before(_: &Key, _: Kind, _: &Key) -> bool {
        false
    }

    fn diff(want: &Spec, have: &State, _: &Ids) -> Result<Vec<Fix>, String> {
        let mut want = want.capacity_providers.clone();
        let mut have = have.capacity_providers.clone();
        want.sort();
        have.sort();
        Ok(if want == have {
            vec![]
        } else {
            vec![Fix::CapacityProviders]
        })
    }

    fn summary(have: &State) -> String {
        have.status.clone()
    }

    fn settings(_: &Key, _: &Spec) -> Value {
        json!({
            "default_capacity_provider_strategy":
                [{ "capacity_provider": DEFAULT_PROVIDER, "weight": 1 }],
        })
    }

    #[cfg(test)]
    fn converged(spec: &Spec, _: &dyn Fn(&Key) -> String) -> State {
        State {
            status: "ACTIVE".into(),
            capacity_providers: spec.capacity_providers.clone(),
        }
    }

    async fn find(aws: &Aws, names: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        find(aws, names).await
    }

    async fn create(cx: &Cx<'_>, key: &Key, _: &str, _: &Spec) -> Result<String, AwsError> {
        create(cx.aws, cx.names, key).await
    }

    async fn fix(
        cx: &Cx<'_>,
        _: &Spec,
        _: &Observed,
        _: &State,
        fix: &Fix,
    ) -> Result<(), AwsError> {
        match fix {
            Fix::CapacityProviders => set_capacity_providers(cx.aws, cx.names).await,
        }
    }

    async fn delete(cx: &Cx<'_>, have: &Observed, _: &State) -> Result<(), AwsError> {
        delete(cx.aws, &have.id).await
    }
}

const PROVIDERS: [&str; 2] = ["FARGATE", "FARGATE_SPOT"];
/// Tasks run on FARGATE unless a service says otherwise.
pub const DEFAULT_PROVIDER: &str = "FARGATE";

pub async fn find(aws: &Aws, names: &Names) -> Result<Vec<Observed>, AwsError> {
    let name = names.cluster();
    let out = aws
        .ecs
        .describe_clusters()
        .clusters(&name)
        .send()
        .await
        .ctx("describe ECS cluster", &name)?;
    Ok(out
        .clusters()
        .iter()
        // A deleted cluster lingers as INACTIVE for a while: it is gone for our purposes.
        .filter(|c| c.status() == Some("ACTIVE"))
        .map(|c| Observed {
            key: desired::cluster(),
            id: c.cluster_arn().unwrap_or(&name).into(),
            name: name.clone(),
            state: plan::State::Cluster(State {
                status: c.status().unwrap_or_default().into(),
                capacity_providers: c.capacity_providers().to_vec(),
            }),
        })
        .collect())
}

fn strategy() -> CapacityProviderStrategyItem {
    CapacityProviderStrategyItem::builder()
        .capacity_provider(DEFAULT_PROVIDER)
        .weight(1)
        .build()
        .expect("provider set")
}

pub async fn create(aws: &Aws, names: &Names, key: &crate::plan::Key) -> Result<String, AwsError> {
    let name = names.cluster();
    let tags: Vec<Tag> = super::tags(names, &key.0, &name)?;
    // A role created moments ago takes a while to be usable by ECS. CreateCluster with the
    // same name and settings returns the existing cluster, so retrying is safe.
    let out = retry(
        Backoff::PROPAGATION,
        service_linked_role::is_pending,
        || async {
            aws.ecs
                .create_cluster()
                .cluster_name(&name)
                .set_capacity_providers(Some(PROVIDERS.map(String::from).to_vec()))
                .default_capacity_provider_strategy(strategy())
                .set_tags(Some(tags.clone()))
                .send()
                .await
                .ctx("create ECS cluster", &name)
        },
    )
    .await?;
    Ok(out
        .cluster()
        .and_then(|c| c.cluster_arn())
        .unwrap_or(&name)
        .to_string())
}

pub async fn set_capacity_providers(aws: &Aws, names: &Names) -> Result<(), AwsError> {
    let name = names.cluster();
    aws.ecs
        .put_cluster_capacity_providers()
        .cluster(&name)
        .set_capacity_providers(Some(PROVIDERS.map(String::from).to_vec()))
        .default_capacity_provider_strategy(strategy())
        .send()
        .await
        .ctx("set capacity providers of ECS cluster", &name)?;
    Ok(())
}

/// Deletes the cluster. ECS refuses (`ClusterContainsTasksException`) while the tasks of a
/// service deleted moments ago are still stopping, which takes up to their stop timeout and
/// load balancer deregistration: retried like any draining dependency.
pub async fn delete(aws: &Aws, arn: &str) -> Result<(), AwsError> {
    delete_draining(|| async {
        aws.ecs
            .delete_cluster()
            .cluster(arn)
            .send()
            .await
            .ctx("delete ECS cluster", arn)
    })
    .await
}

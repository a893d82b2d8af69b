//! The ECS cluster, with the Fargate and Fargate Spot capacity providers.

use aws_sdk_ecs::types::{CapacityProviderStrategyItem, Tag};

use super::iam;
use super::retry::{Backoff, delete_draining, retry};
use super::{Aws, AwsError, Ctx};
use crate::names::Names;
use crate::plan::{Observed, State, desired};

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
            state: State::Cluster {
                status: c.status().unwrap_or_default().into(),
                capacity_providers: c.capacity_providers().to_vec(),
            },
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
    iam::ensure_service_linked_role(aws, iam::ECS_SERVICE).await?;
    // A role created moments ago takes a while to be usable by ECS. CreateCluster with the
    // same name and settings returns the existing cluster, so retrying is safe.
    let out = retry(
        Backoff::PROPAGATION,
        iam::is_service_linked_role_pending,
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

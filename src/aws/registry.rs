//! Every resource kind's `find`, in one place: observing a stack is this table run over
//! `Kind::ALL`, so a new kind without its `find` does not compile.

use super::{
    Aws, AwsError, cluster, ecr, iam, igw, listener, load_balancer, logs, route_table,
    security_group, service, ssm, subnet, target_group, task_definition, vpc,
};
use crate::names::Names;
use crate::plan::{Kind, Observed};

/// The kind whose find also finds `kind`'s resources, if another does.
pub fn found_with(kind: Kind) -> Option<Kind> {
    use Kind::*;
    match kind {
        // Listeners are listed per load balancer: found right after it.
        Listener => Some(LoadBalancer),
        Vpc | Subnet | InternetGateway | RouteTable | SecurityGroup | Repository | LogGroup
        | Role | Parameter | Cluster | LoadBalancer | TargetGroup | TaskDefinition | Service => {
            None
        }
    }
}

/// The stack's resources of `kind` (and of the kinds found with it); `role_path`: the IAM
/// path of the stack's roles.
pub async fn find(
    kind: Kind,
    aws: &Aws,
    names: &Names,
    role_path: &str,
) -> Result<Vec<Observed>, AwsError> {
    match kind {
        Kind::Vpc => vpc::find(aws, names).await,
        Kind::Subnet => subnet::find(aws, names).await,
        Kind::InternetGateway => igw::find(aws, names).await,
        Kind::RouteTable => route_table::find(aws, names).await,
        Kind::SecurityGroup => security_group::find(aws, names).await,
        Kind::Repository => ecr::find(aws, names).await,
        Kind::LogGroup => logs::find(aws, names).await,
        Kind::Role => iam::find(aws, names, role_path).await,
        Kind::Parameter => ssm::find(aws, names).await,
        Kind::Cluster => cluster::find(aws, names).await,
        Kind::LoadBalancer => {
            let lbs = load_balancer::find(aws, names).await?;
            let arn = lbs.first().map(|l| l.id.as_str());
            let listeners = listener::find(aws, names, arn).await?;
            Ok([lbs, listeners].concat())
        }
        Kind::TargetGroup => target_group::find(aws, names).await,
        Kind::Listener => Ok(Vec::new()),
        Kind::TaskDefinition => task_definition::find(aws, names).await,
        Kind::Service => service::find(aws, names).await,
    }
}

//! Fixing an existing resource in place: one call (or a few) per planned fix.

use super::apply::Run;
use crate::aws::{self, AwsError};
use crate::plan::{self, Desired, Fix, Observed, Spec, State};

impl Run<'_> {
    pub(super) async fn fix(&self, have: &Observed, fix: &Fix) -> Result<(), AwsError> {
        let aws = self.aws;
        let id = have.id.as_str();
        match fix {
            Fix::EnableDnsHostnames => aws::vpc::enable_dns_hostnames(aws, id).await,
            Fix::EnableDnsSupport => aws::vpc::enable_dns_support(aws, id).await,
            Fix::MapPublicIp => aws::subnet::map_public_ip(aws, id).await,
            Fix::AttachGateway => {
                let current = match &have.state {
                    State::InternetGateway { attached_vpc } => attached_vpc.clone(),
                    _ => None,
                };
                aws::igw::attach(
                    aws,
                    id,
                    current.as_deref(),
                    &self.id(&plan::desired::vpc())?,
                )
                .await
            }
            Fix::AddRoute { .. } => {
                aws::route_table::add_route(aws, id, &self.id(&plan::desired::igw())?, false).await
            }
            Fix::ReplaceRoute { .. } => {
                aws::route_table::add_route(aws, id, &self.id(&plan::desired::igw())?, true).await
            }
            Fix::Associate { subnet } => {
                aws::route_table::associate(aws, id, &self.id(subnet)?).await
            }
            Fix::Disassociate { association, .. } => {
                aws::route_table::disassociate(aws, association).await
            }
            Fix::Authorize { rule } => {
                aws::security_group::authorize(aws, id, &[self.resolved(rule)?]).await
            }
            Fix::Revoke { rule } => {
                aws::security_group::revoke(aws, id, &[self.resolved(rule)?]).await
            }
            Fix::ScanOnPush => aws::ecr::scan_on_push(aws, id).await,
            Fix::PutLifecyclePolicy { policy } => aws::ecr::put_lifecycle(aws, id, policy).await,
            Fix::SetRetention { days } => aws::logs::set_retention(aws, id, *days).await,
            Fix::UpdateTrustPolicy { document } => aws::iam::update_trust(aws, id, document).await,
            Fix::PutInlinePolicy { name, document } => {
                aws::iam::put_inline(aws, id, name, document).await
            }
            Fix::AttachPolicy { arn } => aws::iam::attach(aws, id, arn).await,
            Fix::DetachPolicy { arn } => aws::iam::detach(aws, id, arn).await,
            Fix::DeleteInlinePolicy { name } => aws::iam::delete_inline(aws, id, name).await,
            Fix::CapacityProviders => aws::cluster::set_capacity_providers(aws, self.names).await,
            Fix::SetSubnets { subnets } => {
                let subnets = subnets
                    .iter()
                    .map(|s| self.id(s))
                    .collect::<Result<Vec<_>, _>>()?;
                aws::load_balancer::set_subnets(aws, id, &subnets).await
            }
            Fix::SetSecurityGroup { group } => {
                aws::load_balancer::set_security_group(aws, id, &self.id(group)?).await
            }
            Fix::SetHealthCheck { health } => {
                aws::target_group::set_health_check(aws, id, health).await
            }
            Fix::SetDeregistrationDelay { seconds } => {
                aws::target_group::set_deregistration_delay(aws, id, *seconds).await
            }
            Fix::SetListenerTarget { target_group } => {
                aws::listener::set_target(aws, id, &self.id(target_group)?).await
            }
            Fix::RegisterRevision { .. } => {
                let Some(Desired {
                    spec: Spec::TaskDefinition { def },
                    ..
                }) = self.desired.iter().find(|d| d.key == have.key)
                else {
                    return Err(AwsError::new("register", &have.key, "not desired"));
                };
                let arn =
                    aws::task_definition::register(aws, self.names, &have.key, &have.name, def)
                        .await?;
                self.ids.lock().expect("ids").insert(have.key.clone(), arn);
                Ok(())
            }
            Fix::UpdateService { .. } => {
                let Some(Desired {
                    spec: Spec::Service(s),
                    ..
                }) = self.desired.iter().find(|d| d.key == have.key)
                else {
                    return Err(AwsError::new("update", &have.key, "not desired"));
                };
                aws::service::update(aws, self.names, id, &self.settings(s)?).await
            }
        }
    }
}

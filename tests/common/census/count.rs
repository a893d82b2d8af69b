//! Counting one kind of a stack's resources, read with the SDK's own calls.

use aws_sdk_ecs::types::TaskDefinitionStatus;
use stackctl::aws::Aws;
use stackctl::plan::Kind;

use super::{Listed, owner};

/// Stack `name`'s resources of `kind`, read with the SDK's own calls (not stackctl's finds).
pub(super) async fn count(aws: &Aws, name: &str, listed: &Listed, kind: Kind) -> usize {
    let (ec2, o) = (&aws.ec2, || Some(owner(name)));
    let prefix = format!("{name}-default");
    match kind {
        Kind::Vpc => {
            let out = ec2.describe_vpcs().set_filters(o()).send().await;
            out.unwrap().vpcs().len()
        }
        Kind::Subnet => {
            let out = ec2.describe_subnets().set_filters(o()).send().await;
            out.unwrap().subnets().len()
        }
        Kind::InternetGateway => {
            let out = ec2
                .describe_internet_gateways()
                .set_filters(o())
                .send()
                .await;
            out.unwrap().internet_gateways().len()
        }
        Kind::RouteTable => {
            let out = ec2.describe_route_tables().set_filters(o()).send().await;
            out.unwrap().route_tables().len()
        }
        Kind::SecurityGroup => {
            let out = ec2.describe_security_groups().set_filters(o()).send().await;
            out.unwrap().security_groups().len()
        }
        Kind::Repository => {
            let repos = aws.ecr.describe_repositories().send().await.unwrap();
            let ours = format!("{prefix}/");
            let names = repos
                .repositories()
                .iter()
                .filter_map(|r| r.repository_name());
            names.filter(|n| n.starts_with(&ours)).count()
        }
        Kind::LogGroup => {
            let logs = aws.logs.describe_log_groups();
            // Any environment's: "nothing left" must not miss one.
            let out = logs
                .log_group_name_prefix(format!("/stackctl/{name}/"))
                .send()
                .await;
            out.unwrap().log_groups().len()
        }
        Kind::Role => {
            let mut n = 0;
            for path in [
                format!("/stackctl/{name}/default/"),
                format!("/stackctl-ci/{name}/default/"),
            ] {
                let out = aws.iam.list_roles().path_prefix(path).send().await;
                n += out.unwrap().roles().len();
            }
            n
        }
        Kind::Policy => {
            let out = aws
                .iam
                .list_policies()
                .path_prefix(format!("/stackctl-ci/{name}/default/"))
                .send()
                .await;
            out.unwrap().policies().len()
        }
        // The account's, shared by stacks (tests/ci.rs follows it): not counted.
        Kind::ServiceLinkedRole | Kind::OidcProvider => 0,
        // RDS keeps identifiers in lowercase; the names are stackctl's deterministic ones.
        Kind::DbSubnetGroup => {
            let out = aws.rds.describe_db_subnet_groups().send().await.unwrap();
            let groups = out.db_subnet_groups().iter();
            groups
                .filter(|g| g.db_subnet_group_name() == Some(prefix.as_str()))
                .count()
        }
        Kind::DbInstance => {
            let out = aws.rds.describe_db_instances().send().await.unwrap();
            let instances = out.db_instances().iter();
            instances
                .filter(|i| i.db_instance_identifier() == Some(prefix.as_str()))
                .count()
        }
        Kind::Parameter => {
            let params = listed.parameters.iter();
            params.filter(|n| **n != listed.lock).count()
        }
        Kind::Cluster => {
            let out = aws.ecs.describe_clusters().clusters(&prefix).send().await;
            let clusters = out.unwrap();
            let active = clusters.clusters().iter();
            active.filter(|c| c.status() == Some("ACTIVE")).count()
        }
        Kind::LoadBalancer => listed.load_balancers.len(),
        Kind::Listener => {
            let mut listeners = 0;
            for arn in &listed.load_balancers {
                let l = aws
                    .elb
                    .describe_listeners()
                    .load_balancer_arn(arn)
                    .send()
                    .await;
                listeners += l.unwrap().listeners().len();
            }
            listeners
        }
        // Listeners with rules of their own (the default one is the listener's).
        Kind::Routes => {
            let mut n = 0;
            for arn in &listed.load_balancers {
                let l = aws.elb.describe_listeners().load_balancer_arn(arn);
                for l in l.send().await.unwrap().listeners() {
                    let rules = aws
                        .elb
                        .describe_rules()
                        .listener_arn(l.listener_arn().unwrap());
                    let rules = rules.send().await.unwrap();
                    let own = rules
                        .rules()
                        .iter()
                        .filter(|r| r.is_default() != Some(true));
                    n += usize::from(own.count() > 0);
                }
            }
            n
        }
        // The private DNS namespace by its name, and the services in it.
        Kind::Namespace => namespaces(aws, &prefix).await.len(),
        Kind::Discovery => {
            let mut n = 0;
            for ns in namespaces(aws, &prefix).await {
                let f = aws_sdk_servicediscovery::types::ServiceFilter::builder()
                    .name(aws_sdk_servicediscovery::types::ServiceFilterName::NamespaceId)
                    .values(ns)
                    .build()
                    .unwrap();
                let out = aws.discovery.list_services().filters(f).send().await;
                n += out.unwrap().services().len();
            }
            n
        }
        Kind::TargetGroup => {
            let tgs = aws.elb.describe_target_groups().send().await.unwrap();
            let ours = format!("{prefix}-");
            let names = tgs
                .target_groups()
                .iter()
                .filter_map(|g| g.target_group_name());
            names.filter(|n| n.starts_with(&ours)).count()
        }
        // Families with an ACTIVE revision (deregistered ones are not the stack's any more).
        Kind::TaskDefinition => {
            // `familyPrefix` is a whole family name (ECS API Reference, ListTaskDefinitions).
            let mut pages = aws
                .ecs
                .list_task_definitions()
                .status(TaskDefinitionStatus::Active)
                .into_paginator()
                .send();
            let mut arns = Vec::new();
            while let Some(page) = pages.next().await {
                arns.extend(page.unwrap().task_definition_arns().to_vec());
            }
            let families: std::collections::BTreeSet<&str> = arns
                .iter()
                .filter_map(|a| a.rsplit('/').next()?.rsplit_once(':').map(|(f, _)| f))
                .filter(|f| f.starts_with(&format!("{prefix}-")))
                .collect();
            families.len()
        }
        // Certificates tagged with the stack.
        Kind::Certificate => {
            let out = aws.acm.list_certificates().send().await.unwrap();
            let mut n = 0;
            for c in out.certificate_summary_list() {
                let arn = c.certificate_arn().unwrap();
                let tags = aws.acm.list_tags_for_certificate().certificate_arn(arn);
                let tags = tags.send().await.unwrap();
                let ours = tags
                    .tags()
                    .iter()
                    .any(|t| t.key() == "stackctl:stack" && t.value() == Some(name));
                n += usize::from(ours);
            }
            n
        }
        // Alias records, in any zone, that point at the stack's load balancer by its name.
        Kind::DnsRecord => {
            let zones = aws.route53.list_hosted_zones().send().await.unwrap();
            let mut n = 0;
            for z in zones.hosted_zones() {
                let sets = aws
                    .route53
                    .list_resource_record_sets()
                    .hosted_zone_id(z.id());
                for r in sets.send().await.unwrap().resource_record_sets() {
                    let target = r.alias_target().map(|a| a.dns_name()).unwrap_or_default();
                    n += usize::from(target.contains(&format!("{prefix}-")));
                }
            }
            n
        }
        // Scalable targets on the stack's cluster.
        Kind::Scaling => {
            let out = aws
                .scaling
                .describe_scalable_targets()
                .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
                .send()
                .await
                .unwrap();
            let ours = format!("service/{prefix}/");
            let targets = out.scalable_targets().iter();
            targets
                .filter(|t| t.resource_id().starts_with(&ours))
                .count()
        }
        // Services that are not deleted.
        Kind::Service => {
            let services = crate::common::ecs_services(aws, &prefix).await;
            let live = |s: &&aws_sdk_ecs::types::Service| {
                matches!(s.status(), Some("ACTIVE" | "DRAINING"))
            };
            services.iter().filter(live).count()
        }
    }
}

/// Ids of the namespaces named as stack `prefix`'s.
async fn namespaces(aws: &Aws, prefix: &str) -> Vec<String> {
    let out = aws.discovery.list_namespaces().send().await.unwrap();
    let name = format!("{prefix}.internal");
    out.namespaces()
        .iter()
        .filter(|n| n.name() == Some(name.as_str()))
        .filter_map(|n| n.id().map(str::to_string))
        .collect()
}

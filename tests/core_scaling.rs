//! Autoscaling against the emulator: `up` registers the service with Application Auto Scaling
//! and puts its target-tracking policies; the count the scaler sets is never reset by a later
//! `up`, deploy or token rotation (0 writes when nothing else changed); `status` shows bounds and activities;
//! `down` removes policies and target.

mod common;

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use common::census::{census, empty, expected_with_scaling};
use common::{Project, clients, moto, timed};

const SCALING: &str = "    scaling: { min: 2, max: 6, cpu: 60, requests: 500 }\n";

async fn desired_count(aws: &stackctl::aws::Aws, name: &str) -> i32 {
    let cluster = format!("{name}-default");
    let out = aws
        .ecs
        .describe_services()
        .cluster(&cluster)
        .services(format!("{cluster}-api"))
        .send()
        .await
        .unwrap();
    out.services()[0].desired_count()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_scaler_owns_the_count_and_up_never_fights_it() {
    let Some(moto) = moto() else { return };
    let p = Project::new(&moto, SCALING);
    let aws = clients(&moto).await;
    let n = p.name.clone();
    let resource = format!("service/{n}-default/{n}-default-api");

    let cold = timed(&p, &["up"]);
    assert!(
        cold.stdout.contains("+ autoscaling"),
        "the plan shows the scaling:\n{}",
        cold.stdout
    );
    assert_eq!(census(&moto, &n).await, expected_with_scaling());
    let targets = aws
        .scaling
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_ids(&resource)
        .send()
        .await
        .unwrap();
    let t = &targets.scalable_targets()[0];
    assert_eq!((t.min_capacity(), t.max_capacity()), (2, 6));
    assert!(
        t.role_arn()
            .ends_with("/AWSServiceRoleForApplicationAutoScaling_ECSService"),
        "{}",
        t.role_arn()
    );
    let policies = aws
        .scaling
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(&resource)
        .send()
        .await
        .unwrap();
    let mut seen: Vec<(String, f64, Option<String>)> = policies
        .scaling_policies()
        .iter()
        .map(|p| {
            let c = p.target_tracking_scaling_policy_configuration().unwrap();
            let m = c.predefined_metric_specification().unwrap();
            assert_eq!(
                (c.scale_out_cooldown(), c.scale_in_cooldown()),
                (Some(60), Some(300))
            );
            (
                m.predefined_metric_type().as_str().to_string(),
                c.target_value(),
                m.resource_label().map(str::to_string),
            )
        })
        .collect();
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(seen[0].0, "ALBRequestCountPerTarget");
    assert_eq!(seen[0].1, 500.0);
    let label = seen[0].2.as_deref().unwrap();
    assert!(
        label.starts_with(&format!("app/{n}-default/"))
            && label.contains(&format!("/targetgroup/{n}-default-api/")),
        "{label}"
    );
    assert_eq!(
        (seen[1].0.as_str(), seen[1].1, &seen[1].2),
        ("ECSServiceAverageCPUUtilization", 60.0, &None)
    );

    // The scaler decides 5 tasks (as Application Auto Scaling would, through UpdateService).
    aws.ecs
        .update_service()
        .cluster(format!("{n}-default"))
        .service(format!("{n}-default-api"))
        .desired_count(5)
        .send()
        .await
        .unwrap();
    let again = timed(&p, &["up"]);
    assert_eq!(again.calls().1, 0, "converged: no writes\n{}", again.all());
    assert_eq!(
        desired_count(&aws, &n).await,
        5,
        "up kept the scaler's count"
    );

    // A deploy (a new environment variable: a new revision) keeps it too.
    let yaml = std::fs::read_to_string(p.stack_file()).unwrap();
    let yaml = yaml.replace(SCALING, &format!("    env: {{ GREETING: hi }}\n{SCALING}"));
    std::fs::write(p.stack_file(), yaml).unwrap();
    let deploy = timed(&p, &["up"]);
    assert!(
        !deploy.stdout.contains("desired"),
        "no count in the plan:\n{}",
        deploy.stdout
    );
    assert_eq!(desired_count(&aws, &n).await, 5, "the deploy kept it");
    // So does a token rotation (a new revision, rolled out).
    timed(&p, &["rotate-token"]);
    assert_eq!(desired_count(&aws, &n).await, 5, "the rotation kept it");

    // New bounds: updated in place; AWS moves the count into them.
    let yaml = std::fs::read_to_string(p.stack_file()).unwrap();
    std::fs::write(
        p.stack_file(),
        yaml.replace("min: 2, max: 6", "min: 2, max: 4"),
    )
    .unwrap();
    let bounds = timed(&p, &["up"]);
    assert!(
        bounds.stdout.contains("scale between 2 and 4 tasks"),
        "{}",
        bounds.stdout
    );
    assert_eq!(desired_count(&aws, &n).await, 4);
    let status = p.run(&["status"]).ok();
    assert!(
        status.stdout.contains("2 to 4 tasks, targets"),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains("Setting desired count to 4."),
        "{}",
        status.stdout
    );

    timed(&p, &["down", "--yes"]);
    assert_eq!(census(&moto, &n).await, empty());
    let left = aws
        .scaling
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(&resource)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .send()
        .await
        .unwrap();
    assert!(left.scaling_policies().is_empty());
}

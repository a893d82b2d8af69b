//! HTTPS on the stack's own domain, end to end: moto (Route 53, ACM issuing only once the
//! validation record is in the public zone, ELB refusing certificates not issued) as the
//! control plane; the real API in podman behind a TLS front that serves the listeners as the
//! emulator has them; curl follows :80's redirect and calls the API over HTTPS with the
//! token. With autoscaling, as a production stack has it. Then another domain replaces the
//! first (refused while someone else's record holds the name), and `down` leaves the zone as
//! it found it.

mod common;

use std::time::Instant;

use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};
use common::census::{census, empty, expected_with_domain};
use common::dataplane::{ControlPlane, run_task};
use common::front::Front;
use common::{Project, latest, moto, timed};

const OK: &str = "devops test server flying!!";
const SCALING: &str = "    scaling: { min: 2, max: 4, cpu: 60, requests: 500 }\n";

fn services_up() -> bool {
    let up = std::env::var("STACKCTL_TEST_PODMAN").is_ok()
        && std::env::var("STACKCTL_TEST_REGISTRY").is_ok();
    if !up {
        assert!(std::env::var_os("STACKCTL_TEST_REQUIRE_SERVICES").is_none());
    }
    up
}

async fn records(r53: &aws_sdk_route53::Client, zone: &str) -> Vec<(String, String)> {
    let out = r53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .unwrap();
    out.resource_record_sets()
        .iter()
        .map(|r| (r.name().to_string(), r.r#type().as_str().to_string()))
        .filter(|(_, t)| t != "NS" && t != "SOA")
        .collect()
}

fn change(action: ChangeAction, name: &str, ip: &str) -> ChangeBatch {
    let set = ResourceRecordSet::builder()
        .name(name)
        .r#type(RrType::A)
        .ttl(60)
        .resource_records(ResourceRecord::builder().value(ip).build().unwrap())
        .build()
        .unwrap();
    ChangeBatch::builder()
        .changes(
            Change::builder()
                .action(action)
                .resource_record_set(set)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn up_serves_https_on_the_domain_and_down_gives_the_zone_back() {
    let Some(moto) = moto() else { return };
    if !services_up() {
        return;
    }
    let p = Project::new(&moto, SCALING);
    let cp = ControlPlane::new(&moto).await;
    let aws = &cp.aws;
    let zone_name = format!("{}.example.com", p.name);
    let domain = format!("api.{zone_name}");
    let yaml = std::fs::read_to_string(p.stack_file()).unwrap();
    std::fs::write(
        p.stack_file(),
        format!("{yaml}domain: {{ name: {domain}, wait_minutes: 2 }}\n"),
    )
    .unwrap();

    // No hosted zone: a clear error before anything is made.
    let refused = p.run(&["up"]);
    assert_ne!(refused.code, 0);
    assert!(
        refused
            .stderr
            .contains("has no public Route 53 hosted zone for it"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("create-hosted-zone"),
        "{}",
        refused.stderr
    );
    assert_eq!(census(&moto, &p.name).await, empty());

    let zone = aws
        .route53
        .create_hosted_zone()
        .name(&zone_name)
        .caller_reference(&p.name)
        .send()
        .await
        .unwrap();
    let zone_id = zone
        .hosted_zone()
        .unwrap()
        .id()
        .trim_start_matches("/hostedzone/")
        .to_string();

    // Cold up with a domain and scaling, then HTTPS answering through the front.
    let started = Instant::now();
    let cold = timed(&p, &["up"]);
    assert!(
        cold.stdout.contains(&format!("URL: https://{domain}/")),
        "{}",
        cold.stdout
    );
    let family = format!("{}-default-api", p.name);
    let td = latest(aws, &family).await;
    let task = run_task(&cp, td.task_definition_arn().unwrap()).await;
    let backend = task
        .url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let front = Front::start(aws, &format!("{}-default", p.name), &backend).await;
    assert_eq!(
        front.ssl_policy,
        "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"
    );
    let token = p.run(&["token"]).ok().stdout.trim().to_string();
    let (code, redirects, body) = front.curl(&domain, &format!("http://{domain}/"), &token);
    assert_eq!((code, redirects, body.as_str()), (200, 1, OK));
    eprintln!(
        "[https] up → HTTPS answering on {domain}: {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let (code, _, _) = front.curl(&domain, &format!("https://{domain}/"), "wrong");
    assert_eq!(code, 401);
    assert_eq!(census(&moto, &p.name).await, {
        let mut c = expected_with_domain();
        *c.get_mut("scaling").unwrap() += 1;
        c
    });
    let mut have = records(&aws.route53, &zone_id).await;
    have.sort();
    assert_eq!(have.len(), 2, "{have:?}");
    assert!(
        have.contains(&(format!("{domain}."), "A".into())),
        "{have:?}"
    );
    assert!(
        have.iter().any(|(n, t)| t == "CNAME"
            && n.starts_with('_')
            && n.ends_with(&format!(".{domain}."))),
        "{have:?}"
    );

    // Converged: reads only; status gives the https URL.
    let again = timed(&p, &["up"]);
    assert_eq!(again.calls().1, 0, "{}", again.all());
    let status = p.run(&["status"]).ok();
    assert!(
        status.stdout.contains(&format!("URL: https://{domain}/")),
        "{}",
        status.stdout
    );

    // Another domain, whose name holds someone else's record: refused, nothing of theirs
    // touched, the old domain still served.
    let other = format!("www.{zone_name}");
    aws.route53
        .change_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .change_batch(change(ChangeAction::Create, &other, "192.0.2.10"))
        .send()
        .await
        .unwrap();
    let yaml = std::fs::read_to_string(p.stack_file()).unwrap();
    std::fs::write(
        p.stack_file(),
        yaml.replace(&format!("name: {domain}"), &format!("name: {other}")),
    )
    .unwrap();
    let blocked = p.run(&["up"]);
    assert_ne!(blocked.code, 0);
    assert!(
        blocked.all().contains("which stackctl did not make"),
        "{}",
        blocked.all()
    );
    assert!(
        records(&aws.route53, &zone_id)
            .await
            .contains(&(format!("{other}."), "A".into()))
    );
    drop(front);
    aws.route53
        .change_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .change_batch(change(ChangeAction::Delete, &other, "192.0.2.10"))
        .send()
        .await
        .unwrap();
    let moved = timed(&p, &["up"]);
    assert!(
        moved.stdout.contains(&format!("URL: https://{other}/")),
        "{}",
        moved.stdout
    );
    let front = Front::start(aws, &format!("{}-default", p.name), &backend).await;
    let (code, redirects, body) = front.curl(&other, &format!("http://{other}/status"), &token);
    assert_eq!((code, redirects), (200, 1), "{body}");
    let mut have = records(&aws.route53, &zone_id).await;
    have.sort();
    assert!(
        have.contains(&(format!("{other}."), "A".into())),
        "{have:?}"
    );
    assert!(
        !have.iter().any(|(n, _)| n.ends_with(&format!("{domain}."))),
        "the old domain's records are gone: {have:?}"
    );
    drop((front, task));

    // Down: the certificate and the records go, the zone stays as the user made it.
    aws.route53
        .change_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .change_batch(change(
            ChangeAction::Create,
            &format!("mail.{zone_name}"),
            "192.0.2.25",
        ))
        .send()
        .await
        .unwrap();
    timed(&p, &["down", "--yes"]);
    assert_eq!(census(&moto, &p.name).await, empty());
    assert_eq!(
        records(&aws.route53, &zone_id).await,
        [(format!("mail.{zone_name}."), "A".to_string())]
    );
    aws.route53
        .get_hosted_zone()
        .id(&zone_id)
        .send()
        .await
        .expect("the zone is the user's: never deleted");

    // Up again at once (ACM keeps an idempotency token an hour: a new request must get a
    // new certificate, not the deleted one), and down.
    let again = timed(&p, &["up"]);
    assert!(
        again.stdout.contains(&format!("URL: https://{other}/")),
        "{}",
        again.stdout
    );
    timed(&p, &["down", "--yes"]);
    assert_eq!(census(&moto, &p.name).await, empty());
}

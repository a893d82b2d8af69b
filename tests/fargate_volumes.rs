//! Fargate mounts each task volume as an empty directory owned by root, mode 0755, unless the
//! image declares the path a `VOLUME` (then it copies the image's directory in, owner
//! included). The test data plane does the same, so stackctl's own task definition for the API
//! (read-only root, user 65532, /tmp and /data mounted) must start from the image as
//! `stackctl build` makes it, and must fail to start from the same image without the
//! declarations, as it would on Fargate. (The API writes to /tmp only when it keeps payments
//! in SQLite, its local default: the test runs it so.)

mod common;
mod image_support;

use std::collections::BTreeMap;

use common::dataplane::{get, start};
use image_support::{build, build_dir, repo_root, service};
use stackctl::aws::container::container_definition;
use stackctl::image::{self, BuildSpec, RegistryAuth, RegistryTarget, layer};
use stackctl::plan::{Facts, Image, Spec, TaskDef, desired};

/// The API's task definition exactly as `up` would register it for the repository's
/// stack.yaml, with `image`.
fn api_task_def(image: &str) -> TaskDef {
    let stack = stackctl::config::load(&repo_root().join("stack.yaml"), None).unwrap();
    let facts = Facts {
        account: "123456789012".into(),
        region: "us-east-1".into(),
        partition: "aws".into(),
        zones: vec!["us-east-1a".into(), "us-east-1b".into()],
        images: BTreeMap::from([(
            "api".to_string(),
            Image {
                reference: image.into(),
                health_command: Some(vec!["CMD".into(), "/api".into(), "healthcheck".into()]),
            },
        )]),
        tokens: BTreeMap::new(),
        database: None,
        zone: None,
        load_balancer_dns: None,
        live: Default::default(),
    };
    let want = desired::task_definition("api");
    desired::desired(&stack, &facts)
        .into_iter()
        .find_map(|d| match d.spec {
            Spec::TaskDefinition(stackctl::aws::task_definition::Spec { def }) if d.key == want => {
                Some(def)
            }
            _ => None,
        })
        .expect("the api service has a task definition")
}

#[tokio::test]
async fn the_api_task_starts_only_when_its_image_declares_the_directories_it_writes() {
    let Some(registry) = service("STACKCTL_TEST_REGISTRY") else {
        return;
    };
    let Some(_) = service("STACKCTL_TEST_PODMAN") else {
        return;
    };
    let target =
        RegistryTarget::new(&registry, "test/api-volumes", RegistryAuth::Anonymous).unwrap();
    let token = format!("tok-{:x}", std::process::id() as u64 * 2_654_435_761);
    let mut started = Vec::new();
    for writable in [layer::WRITABLE.map(String::from).to_vec(), Vec::new()] {
        let tag = if writable.is_empty() {
            "undeclared"
        } else {
            "declared"
        };
        let spec = BuildSpec {
            package_dir: repo_root().join("apps/api"),
            stack: "test".into(),
            service: "api".into(),
            target_dir: Some(build_dir("api")),
            writable,
            ..BuildSpec::default()
        };
        let built = build(&spec).await;
        let published = image::publish(&built, &target, tag).await.unwrap();
        let mut def = api_task_def(&published.reference);
        // Deployed without a database the API writes nothing; as the SQLite it keeps locally
        // (`/tmp/api.db`), it is a service that writes to its volumes.
        assert_eq!(def.environment.remove("DATABASE").as_deref(), Some("none"));
        assert!(def.read_only_root && def.user == "65532:65532", "{def:?}");
        assert_eq!(
            def.volumes.values().collect::<Vec<_>>(),
            ["/data", "/tmp"],
            "the task mounts what the image declares"
        );
        let container = container_definition("api", &def).unwrap();
        let secrets: Vec<(String, String)> = def
            .secrets
            .keys()
            .map(|k| (k.clone(), token.clone()))
            .collect();
        started.push(start(&container, &secrets).await);
    }
    let undeclared = started.pop().unwrap();
    let declared = started.pop().unwrap();

    let task = declared.unwrap_or_else(|e| panic!("the image as built does not start: {e}"));
    assert_eq!(get(&task.url(), &token).await.0, 200);
    assert!(task.healthy(), "the container health check fails");
    assert_eq!(task.stop(), "0", "SIGTERM did not stop it cleanly");

    // Root-owned 0755 /tmp: the API cannot create its SQLite file and exits at start.
    let err = match undeclared {
        Ok(_) => panic!("an image without VOLUME declarations started; Fargate would not"),
        Err(e) => e,
    };
    assert!(err.contains("exited"), "{err}");
    assert!(err.contains("cannot open storage"), "{err}");
}

//! ECR as the push target: credentials and endpoint from GetAuthorizationToken (moto),
//! the documented endpoint override pointing at the local registry.

mod image_support;

use aws_sdk_ecr::config::{BehaviorVersion, Credentials, Region};
use image_support::{build, build_dir, fixture_spec, service};
use stackctl::aws::ecr::authorization;
use stackctl::image::{self, RegistryAuth, ecr};

fn ecr_client(endpoint: &str) -> aws_sdk_ecr::Client {
    let config = aws_sdk_ecr::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_ecr::Client::from_conf(config)
}

#[tokio::test]
async fn ecr_gives_the_registry_and_basic_credentials() {
    let Some(moto) = service("STACKCTL_TEST_MOTO") else {
        return;
    };
    let client = ecr_client(&moto);
    let auth = authorization(&client).await.unwrap();
    let endpoint = auth.proxy_endpoint.as_deref();
    let target = ecr::target("demo/api", &auth.token, endpoint, None).unwrap();
    assert_eq!(
        target.registry,
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    );
    assert_eq!(target.repository, "demo/api");
    assert!(!target.plain_http);
    let RegistryAuth::Basic(user, password) = &target.auth else {
        panic!("{:?}", target.auth)
    };
    assert_eq!(
        (user.as_str(), password.as_str()),
        ("AWS", "123456789012-auth-token")
    );
    assert!(
        !format!("{target:?}").contains(password),
        "Debug shows the password"
    );

    let err = ecr::target(
        "demo/api",
        &auth.token,
        endpoint,
        Some("http://10.1.2.3:5000"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("plain HTTP is only allowed for loopback"),
        "{err}"
    );
}

#[tokio::test]
async fn push_to_an_ecr_repository_through_the_endpoint_override() {
    let Some(moto) = service("STACKCTL_TEST_MOTO") else {
        return;
    };
    let Some(registry) = service("STACKCTL_TEST_REGISTRY") else {
        return;
    };
    let client = ecr_client(&moto);
    // The CLI's ECR reconciler creates the repository before pushing (ECR does not
    // create on push); here the test does.
    client
        .create_repository()
        .repository_name("demo/pushed")
        .send()
        .await
        .unwrap();
    let endpoint = format!("http://{registry}");
    let auth = authorization(&client).await.unwrap();
    let proxy = auth.proxy_endpoint.as_deref();
    let target = ecr::target("demo/pushed", &auth.token, proxy, Some(&endpoint)).unwrap();
    assert_eq!(
        (target.registry.as_str(), target.plain_http),
        (registry.as_str(), true)
    );

    let image = build(&fixture_spec(build_dir("hello"))).await;
    let published = image::publish(&image, &target, "0123abc").await.unwrap();
    assert_eq!(
        published.reference,
        format!("{registry}/demo/pushed@{}", image.digest())
    );
    let resolved = image::resolve(&format!("{registry}/demo/pushed:0123abc"), &target.auth)
        .await
        .unwrap();
    assert_eq!(resolved, published.reference);
}

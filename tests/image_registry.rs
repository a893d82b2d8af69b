//! Pushing to a real registry (Debian's docker-registry from scripts/services/registry.sh)
//! and reading back with an independent client (skopeo).

mod image_support;

use std::process::Command;

use image_support::{build, build_dir, fixture_spec, run, service};
use serde_json::Value;
use stackctl::image::{self, Error, RegistryAuth, RegistryTarget};

fn skopeo(args: &[&str], reference: &str) -> Vec<u8> {
    let transport = format!("docker://{reference}");
    run(Command::new("skopeo")
        .args(["inspect", "--tls-verify=false"])
        .args(args)
        .arg(transport))
    .into_bytes()
}

fn target(registry: &str, repository: &str) -> RegistryTarget {
    RegistryTarget::new(registry, repository, RegistryAuth::Anonymous).unwrap()
}

#[tokio::test]
async fn pushed_image_reads_back_identically_and_a_repush_uploads_nothing() {
    let Some(registry) = service("STACKCTL_TEST_REGISTRY") else {
        return;
    };
    let image = build(&fixture_spec(build_dir("hello"))).await;
    let target = target(&registry, "test/hello");
    assert!(target.plain_http, "loopback registry over HTTP");

    let first = image::publish(&image, &target, "rev1").await.unwrap();
    assert_eq!(
        first.reference,
        format!("{registry}/test/hello@{}", image.digest())
    );
    assert_eq!((first.blobs_uploaded, first.blobs_skipped), (2, 0));
    assert_eq!(first.bytes_uploaded, image.compressed_size());

    // skopeo's view: the manifest bytes, the config bytes, digest and layers.
    let tagged = format!("{registry}/test/hello:rev1");
    assert_eq!(skopeo(&["--raw"], &tagged), image.manifest.to_vec());
    assert_eq!(
        skopeo(&["--config", "--raw"], &tagged),
        image.config.data.to_vec()
    );
    let info: Value = serde_json::from_slice(&skopeo(&[], &tagged)).unwrap();
    assert_eq!(info["Digest"], image.digest());
    let layers: Vec<&str> = image.layers.iter().map(|l| l.digest.as_str()).collect();
    assert_eq!(info["Layers"], serde_json::json!(layers));
    assert_eq!(
        (info["Os"].as_str(), info["Architecture"].as_str()),
        (Some("linux"), Some("amd64"))
    );
    assert_eq!(info["Labels"][image::LABEL_REVISION], "0123456789abcdef");
    let pinned: Value = serde_json::from_slice(&skopeo(&[], &first.reference)).unwrap();
    assert_eq!(pinned["Digest"], image.digest());

    let again = image::publish(&image, &target, "rev2").await.unwrap();
    assert_eq!(again.reference, first.reference);
    assert_eq!(
        (
            again.bytes_uploaded,
            again.blobs_uploaded,
            again.blobs_skipped
        ),
        (0, 0, 2)
    );
    let retagged: Value =
        serde_json::from_slice(&skopeo(&[], &format!("{registry}/test/hello:rev2"))).unwrap();
    assert_eq!(retagged["Digest"], image.digest());
}

#[tokio::test]
async fn resolve_pins_a_tag_to_its_digest() {
    let Some(registry) = service("STACKCTL_TEST_REGISTRY") else {
        return;
    };
    let image = build(&fixture_spec(build_dir("hello"))).await;
    let published = image::publish(&image, &target(&registry, "test/prebuilt"), "stable")
        .await
        .unwrap();

    let tag = format!("{registry}/test/prebuilt:stable");
    assert_eq!(
        image::resolve(&tag, &RegistryAuth::Anonymous)
            .await
            .unwrap(),
        published.reference
    );
    let pinned = image::resolve(&published.reference, &RegistryAuth::Anonymous)
        .await
        .unwrap();
    assert_eq!(pinned, published.reference);

    let missing = format!("{registry}/test/prebuilt:nope");
    let err = image::resolve(&missing, &RegistryAuth::Anonymous)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Resolve { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("resolve image {missing}: ")),
        "{err}"
    );
    let wrong = format!("{registry}/test/prebuilt@sha256:{}", "0".repeat(64));
    assert!(
        image::resolve(&wrong, &RegistryAuth::Anonymous)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn an_image_over_a_base_carries_the_base_layers_and_pins_it() {
    let Some(registry) = service("STACKCTL_TEST_REGISTRY") else {
        return;
    };
    let base_image = build(&fixture_spec(build_dir("hello"))).await;
    let base = image::publish(&base_image, &target(&registry, "test/base"), "v1")
        .await
        .unwrap();

    let mut spec = fixture_spec(build_dir("hello"));
    spec.base = Some(format!("{registry}/test/base:v1"));
    let image = build(&spec).await;
    assert_eq!(image.base.as_deref(), Some(base.reference.as_str()));
    assert_eq!(image.layers.len(), 2);
    assert_eq!(image.layers[0].digest, base_image.layers[0].digest);
    let files = image_support::layer_files(&image.layers[1].data);
    assert!(files.contains_key("hello") && !files.contains_key("etc/passwd"));
    let cfg = image.config_json();
    let base_cfg = base_image.config_json();
    assert_eq!(
        cfg["rootfs"]["diff_ids"][0],
        base_cfg["rootfs"]["diff_ids"][0]
    );
    assert_eq!(cfg["rootfs"]["diff_ids"].as_array().unwrap().len(), 2);
    let manifest: Value = serde_json::from_slice(&image.manifest).unwrap();
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.base.digest"],
        base.digest
    );

    let published = image::publish(&image, &target(&registry, "test/on-base"), "v1")
        .await
        .unwrap();
    assert_eq!((published.blobs_uploaded, published.blobs_skipped), (3, 0));
    let info: Value =
        serde_json::from_slice(&skopeo(&[], &format!("{registry}/test/on-base:v1"))).unwrap();
    assert_eq!(info["Digest"], image.digest());
    assert_eq!(info["Layers"].as_array().unwrap().len(), 2);
}

//! Pure tests of the image builder: layer determinism, OCI documents, endpoints, tags,
//! platforms. No toolchain run, no network.

use std::collections::BTreeMap;
use std::io::Read;

use serde_json::{Value, json};
use stackctl::image::layer::{self, APP_UID, EntryKind};
use stackctl::image::oci::{self, Blob, ImageSettings};
use stackctl::image::registry::{is_loopback, parse_endpoint};
use stackctl::image::{Platform, validate_tag};

/// path, mode, uid, gid, mtime, type, content
type Unpacked = (String, u32, u64, u64, u64, tar::EntryType, Vec<u8>);

fn unpack(gz: &[u8]) -> Vec<Unpacked> {
    let mut tar_bytes = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut tar_bytes)
        .unwrap();
    let mut archive = tar::Archive::new(&tar_bytes[..]);
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let h = e.header().clone();
            let mut content = Vec::new();
            e.read_to_end(&mut content).unwrap();
            let path = String::from_utf8(h.path_bytes().into_owned()).unwrap();
            let kind = h.entry_type();
            (
                path,
                h.mode().unwrap(),
                h.uid().unwrap(),
                h.gid().unwrap(),
                h.mtime().unwrap(),
                kind,
                content,
            )
        })
        .collect()
}

fn writable() -> Vec<String> {
    layer::WRITABLE.map(String::from).to_vec()
}

#[test]
fn nested_writable_directories_have_root_parents() {
    let entries = layer::app_entries(b"bin".to_vec(), "api", false, &["/var/lib/app/".into()]);
    let owner = |p: &str| {
        entries
            .iter()
            .find(|e| e.path == p)
            .map(|e| (e.owner, e.mode))
    };
    assert_eq!(owner("var/"), Some((0, 0o755)));
    assert_eq!(owner("var/lib/"), Some((0, 0o755)));
    assert_eq!(owner("var/lib/app/"), Some((APP_UID, 0o755)));
}

#[test]
fn layer_is_byte_for_byte_deterministic_with_fixed_metadata() {
    let entries = || layer::app_entries(b"\x7fELF fake".to_vec(), "api", true, &writable());
    let a = layer::pack(&entries(), 1_700_000_000).unwrap();
    let b = layer::pack(&entries(), 1_700_000_000).unwrap();
    assert_eq!(a.data, b.data);
    assert_eq!(a.digest, layer::sha256(&a.data));
    assert_ne!(a.digest, a.diff_id);
    // gzip header: no mtime, OS "unknown", no file name flag.
    assert_eq!(&a.data[4..8], &[0, 0, 0, 0]);
    assert_eq!(a.data[9], 255);
    assert_eq!(a.data[3] & 0x08, 0);

    let unpacked = unpack(&a.data);
    let paths: Vec<&str> = unpacked.iter().map(|e| e.0.trim_end_matches('/')).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted, "entries are sorted");
    for (path, mode, uid, gid, mtime, _, _) in &unpacked {
        assert_eq!(*mtime, 1_700_000_000, "{path}");
        let owner = if path.starts_with("home/nonroot") || *path == "data/" {
            u64::from(APP_UID)
        } else {
            0
        };
        assert_eq!((*uid, *gid), (owner, owner), "{path}");
        assert!(
            *mode == 0o755 || *mode == 0o644 || *mode == 0o700 || *mode == 0o1777,
            "{path} {mode:o}"
        );
    }
    let find = |p: &str| {
        unpacked
            .iter()
            .find(|e| e.0.trim_end_matches('/') == p)
            .unwrap_or_else(|| panic!("{p} missing"))
    };
    let bin = find("api");
    assert_eq!(
        (bin.1, bin.5, bin.6.as_slice()),
        (0o755, tar::EntryType::Regular, &b"\x7fELF fake"[..])
    );
    let tmp = find("tmp");
    assert_eq!((tmp.1, tmp.5), (0o1777, tar::EntryType::Directory));
    // Copied with its owner into the task's bind mount (layer::WRITABLE).
    let data = find("data");
    assert_eq!(
        (data.1, data.2, data.5),
        (0o755, u64::from(APP_UID), tar::EntryType::Directory)
    );
    let passwd = String::from_utf8(find("etc/passwd").6.clone()).unwrap();
    assert!(passwd.contains("nonroot:x:65532:65532:"), "{passwd}");
    let group = String::from_utf8(find("etc/group").6.clone()).unwrap();
    assert!(group.contains("nonroot:x:65532:"), "{group}");
    let bundle = String::from_utf8(find("etc/ssl/certs/ca-certificates.crt").6.clone()).unwrap();
    assert!(bundle.matches("-----BEGIN CERTIFICATE-----").count() > 100);
}

#[test]
fn source_date_epoch_sets_every_timestamp() {
    let entries = layer::app_entries(b"bin".to_vec(), "api", true, &writable());
    let a = layer::pack(&entries, 0).unwrap();
    let b = layer::pack(&entries, 86_400).unwrap();
    assert_ne!(a.digest, b.digest);
    assert!(unpack(&a.data).iter().all(|e| e.4 == 0));
    assert!(unpack(&b.data).iter().all(|e| e.4 == 86_400));
}

#[test]
fn over_a_base_the_layer_leaves_etc_and_tmp_to_the_base() {
    let entries = layer::app_entries(b"bin".to_vec(), "api", false, &writable());
    let paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
    assert!(paths.contains(&"api"));
    assert!(
        paths
            .iter()
            .all(|p| !p.starts_with("etc") && !p.starts_with("tmp")),
        "{paths:?}"
    );
    assert!(
        entries
            .iter()
            .any(|e| e.kind == EntryKind::Dir && e.path == "home/nonroot/")
    );
}

fn settings() -> ImageSettings {
    ImageSettings {
        platform: Platform::LinuxAmd64,
        entrypoint: vec!["/api".into()],
        user: "65532:65532".into(),
        port: 8080,
        env: vec![
            "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt".into(),
            "PORT=8080".into(),
        ],
        labels: BTreeMap::from([("org.opencontainers.image.revision".into(), "abc".into())]),
        volumes: writable(),
        created: stackctl::clock::rfc3339(0),
    }
}

#[test]
fn config_over_scratch_has_runtime_settings_and_one_diff_id() {
    let cfg: Value =
        serde_json::from_slice(&oci::config_json(&settings(), None, "sha256:aa")).unwrap();
    assert_eq!(cfg["architecture"], "amd64");
    assert_eq!(cfg["os"], "linux");
    assert_eq!(cfg["created"], "1970-01-01T00:00:00Z");
    assert_eq!(cfg["config"]["Entrypoint"], json!(["/api"]));
    assert_eq!(cfg["config"]["User"], "65532:65532");
    assert_eq!(cfg["config"]["ExposedPorts"], json!({"8080/tcp": {}}));
    assert_eq!(cfg["config"]["WorkingDir"], "/");
    assert_eq!(cfg["config"]["Volumes"], json!({"/tmp": {}, "/data": {}}));
    assert_eq!(
        cfg["config"]["Labels"]["org.opencontainers.image.revision"],
        "abc"
    );
    assert_eq!(
        cfg["rootfs"],
        json!({"type": "layers", "diff_ids": ["sha256:aa"]})
    );
    assert_eq!(cfg["history"].as_array().unwrap().len(), 1);
    assert!(cfg["config"].get("Cmd").is_none());
}

#[test]
fn config_over_a_base_merges_env_labels_and_layers_and_drops_cmd() {
    let base = json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/bin", "PORT=1", "LANG=C"], "Cmd": ["/bin/sh"],
                   "Labels": {"base": "yes"}, "ExposedPorts": {"9000/tcp": {}}},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:b1", "sha256:b2"]},
        "history": [{"created_by": "a"}, {"created_by": "b"}]
    });
    let mut s = settings();
    s.env = vec!["PORT=8080".into()];
    let cfg: Value =
        serde_json::from_slice(&oci::config_json(&s, Some(&base), "sha256:aa")).unwrap();
    assert_eq!(
        cfg["config"]["Env"],
        json!(["PATH=/bin", "LANG=C", "PORT=8080"])
    );
    assert!(cfg["config"].get("Cmd").is_none());
    assert_eq!(cfg["config"]["Labels"]["base"], "yes");
    assert_eq!(
        cfg["config"]["ExposedPorts"],
        json!({"8080/tcp": {}, "9000/tcp": {}})
    );
    assert_eq!(
        cfg["rootfs"]["diff_ids"],
        json!(["sha256:b1", "sha256:b2", "sha256:aa"])
    );
    assert_eq!(cfg["history"].as_array().unwrap().len(), 3);
}

#[test]
fn manifest_describes_config_and_layers_by_digest_and_size() {
    let config = Blob::new(oci::CONFIG_MEDIA_TYPE, b"{}".to_vec());
    let layer = Blob::new(oci::LAYER_MEDIA_TYPE, vec![1u8; 10]);
    let raw = oci::manifest_json(&config, std::slice::from_ref(&layer), &BTreeMap::new());
    let m: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(m["schemaVersion"], 2);
    assert_eq!(m["mediaType"], oci::MANIFEST_MEDIA_TYPE);
    assert_eq!(m["config"]["digest"], config.digest);
    assert_eq!(m["config"]["size"], 2);
    assert_eq!(m["layers"][0]["digest"], layer.digest);
    assert_eq!(m["layers"][0]["size"], 10);
    assert!(m.get("annotations").is_none());
    assert_eq!(raw, oci::manifest_json(&config, &[layer], &BTreeMap::new()));
}

#[test]
fn rfc3339_formats_epoch_seconds() {
    assert_eq!(stackctl::clock::rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(
        stackctl::clock::rfc3339(951_782_400),
        "2000-02-29T00:00:00Z"
    );
    assert_eq!(
        stackctl::clock::rfc3339(1_700_000_000),
        "2023-11-14T22:13:20Z"
    );
    assert_eq!(
        stackctl::clock::rfc3339(4_102_444_799),
        "2099-12-31T23:59:59Z"
    );
}

#[test]
fn plain_http_is_only_allowed_on_loopback() {
    assert_eq!(
        parse_endpoint("http://127.0.0.1:5000").unwrap(),
        ("127.0.0.1:5000".into(), true)
    );
    assert_eq!(
        parse_endpoint("http://localhost:5000/").unwrap(),
        ("localhost:5000".into(), true)
    );
    assert_eq!(
        parse_endpoint("http://[::1]:5000").unwrap(),
        ("[::1]:5000".into(), true)
    );
    assert_eq!(
        parse_endpoint("127.0.0.2:5000").unwrap(),
        ("127.0.0.2:5000".into(), true)
    );
    let ecr = "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com";
    assert_eq!(
        parse_endpoint(ecr).unwrap(),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com".into(), false)
    );
    assert!(!parse_endpoint("registry.example:443").unwrap().1);
    for refused in [
        "http://10.0.0.5:5000",
        "http://registry.example",
        "ftp://127.0.0.1",
        "https://h/path",
        "",
    ] {
        let err = parse_endpoint(refused).unwrap_err().to_string();
        assert!(err.starts_with("use registry endpoint"), "{refused}: {err}");
    }
    let err = parse_endpoint("http://10.0.0.5:5000")
        .unwrap_err()
        .to_string();
    assert!(err.contains("only allowed for loopback"), "{err}");
    assert!(is_loopback("127.9.9.9") && !is_loopback("localhost.example.com:80"));
}

#[test]
fn tags_follow_the_oci_grammar() {
    for ok in [
        "latest",
        "0123abc",
        "v1.2.3",
        "_x",
        "a-b_c.d",
        &"a".repeat(128),
    ] {
        assert!(validate_tag(ok).is_ok(), "{ok}");
    }
    for bad in ["", ".x", "-x", "a/b", "a:b", "sha256:abc", &"a".repeat(129)] {
        assert!(validate_tag(bad).is_err(), "{bad}");
    }
}

#[test]
fn platforms_parse_and_name_their_rust_targets() {
    assert_eq!(
        "linux/amd64".parse::<Platform>().unwrap(),
        Platform::LinuxAmd64
    );
    assert_eq!(
        "linux/arm64".parse::<Platform>().unwrap().rust_target(),
        "aarch64-unknown-linux-gnu"
    );
    assert_eq!(Platform::LinuxArm64.to_string(), "linux/arm64");
    assert!("windows/amd64".parse::<Platform>().is_err());
}

#[test]
fn missing_platform_support_says_what_to_install() {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let available = Platform::detect_available(here);
    assert!(
        available.contains(&Platform::host().unwrap()),
        "{available:?}"
    );
    for p in Platform::ALL.into_iter().filter(|p| !available.contains(p)) {
        let err = p.ensure_available(here).unwrap_err().to_string();
        let std_hint = format!("`rustup target add {}`", p.rust_target());
        assert!(
            err.contains(&std_hint) || err.contains("cross linker"),
            "{err}"
        );
        assert!(
            err.starts_with(&format!("build for {p}: {p} needs")),
            "{err}"
        );
    }
}

#[test]
fn a_cached_layer_is_the_layer_pack_makes_and_a_corrupt_one_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let entries = layer::app_entries(b"\x7fELF not really".to_vec(), "api", true, &writable());
    let fresh = layer::pack(&entries, 0).unwrap();
    let first = layer::pack_cached(&entries, 0, Some(dir.path())).unwrap();
    let cached = dir.path().join(format!("{}.tar.gz", &fresh.diff_id[7..]));
    assert!(cached.is_file(), "the layer was cached");
    let second = layer::pack_cached(&entries, 0, Some(dir.path())).unwrap();
    for l in [&first, &second] {
        assert_eq!(
            (&l.digest, &l.diff_id, &l.data),
            (&fresh.digest, &fresh.diff_id, &fresh.data)
        );
    }
    std::fs::write(&cached, b"garbage").unwrap();
    let repaired = layer::pack_cached(&entries, 0, Some(dir.path())).unwrap();
    assert_eq!(repaired.digest, fresh.digest);
    assert_eq!(std::fs::read(&cached).unwrap(), fresh.data.to_vec());
}

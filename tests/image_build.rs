//! Building images from Cargo packages: static binary, reproducible digest, compiler
//! errors surfaced. Uses the `tests/fixtures/hello` crate.

mod image_support;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use image_support::{build, build_dir, fixture_dir, fixture_spec, layer_files, run};
use stackctl::image::{self, BuildSpec, Error};

/// Whether an ELF file asks for a dynamic loader (has a PT_INTERP program header).
fn has_interpreter(elf: &[u8]) -> bool {
    assert_eq!(&elf[..4], b"\x7fELF");
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    (0..phnum).any(|i| {
        let o = phoff + i * phentsize;
        u32::from_le_bytes(elf[o..o + 4].try_into().unwrap()) == 3
    })
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn builds_a_static_binary_into_a_labelled_non_root_image() {
    let target = build_dir("hello");
    let image = build(&fixture_spec(target.clone())).await;

    let cfg = image.config_json();
    assert_eq!(cfg["architecture"], "amd64");
    assert_eq!(cfg["created"], "2023-11-14T22:13:20Z");
    assert_eq!(cfg["config"]["Entrypoint"][0], "/hello");
    assert_eq!(cfg["config"]["User"], "65532:65532");
    assert_eq!(
        cfg["config"]["ExposedPorts"]["8080/tcp"],
        serde_json::json!({})
    );
    let labels = &cfg["config"]["Labels"];
    assert_eq!(labels[image::LABEL_REVISION], "0123456789abcdef");
    assert_eq!(labels[image::LABEL_STACK], "test");
    assert_eq!(labels[image::LABEL_SERVICE], "hello");
    assert_eq!(image.layers.len(), 1);
    assert_eq!(
        image.digest(),
        stackctl::image::layer::sha256(&image.manifest)
    );

    let files = layer_files(&image.layers[0].data);
    let binary = &files["hello"];
    assert_eq!(binary.len() as u64, image.binary_size);
    assert!(!has_interpreter(binary), "binary is dynamically linked");
    for path in [
        target.to_str().unwrap(),
        fixture_dir().to_str().unwrap(),
        env!("HOME"),
    ] {
        assert!(
            !contains(binary, path),
            "binary embeds the local path {path}"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("hello");
    std::fs::write(&exe, binary).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = run(Command::new(&exe).arg("tests"));
    assert!(
        out.starts_with("hello tests from src/main.rs and /target/"),
        "{out}"
    );
}

#[tokio::test]
async fn two_clean_builds_in_different_places_give_the_same_digest() {
    // Clean target dirs at different paths, and the source copied elsewhere for the
    // second build: nothing of either location may leak into the image.
    let (t1, t2, src) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let copy = src.path().join("elsewhere/hello");
    std::fs::create_dir_all(src.path().join("elsewhere")).unwrap();
    run(Command::new("cp").arg("-r").arg(fixture_dir()).arg(&copy));
    let first = build(&fixture_spec(t1.path().join("target"))).await;
    let mut spec = fixture_spec(t2.path().join("other-target"));
    spec.package_dir = copy;
    let second = build(&spec).await;
    assert_eq!(first.digest(), second.digest());
    assert_eq!(first.manifest, second.manifest);
    assert_eq!(first.layers[0].data, second.layers[0].data);

    let mut later = fixture_spec(t1.path().join("target"));
    later.revision = "fedcba".into();
    assert_ne!(
        build(&later).await.digest(),
        first.digest(),
        "revision label changes the digest"
    );
}

#[tokio::test]
async fn compiler_errors_reach_the_user() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"broken\"\nversion = \"0.1.0\"\nedition = \"2024\"\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/main.rs"),
        "fn main() { let x: u32 = \"text\"; }\n",
    )
    .unwrap();
    let spec = BuildSpec {
        package_dir: dir.path().to_path_buf(),
        target_dir: Some(dir.path().join("target")),
        ..BuildSpec::default()
    };
    let streamed = std::sync::Mutex::new(String::new());
    let progress = |line: &str| streamed.lock().unwrap().push_str(&format!("{line}\n"));
    let err = image::build(&spec, &progress).await.unwrap_err();
    assert!(matches!(err, Error::Compile { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with("compile "), "{msg}");
    for text in ["error[E0308]: mismatched types", "src/main.rs:1"] {
        assert!(msg.contains(text), "error lacks {text:?}: {msg}");
        assert!(
            streamed.lock().unwrap().contains(text),
            "progress lacks {text:?}"
        );
    }
}

#[tokio::test]
async fn an_unknown_binary_is_refused_with_the_ones_there_are() {
    let mut spec = fixture_spec(build_dir("hello"));
    spec.bin = Some("nope".into());
    let err = image::build(&spec, &|_| {}).await.unwrap_err().to_string();
    assert!(
        err.contains("has no binary nope") && err.contains("\"hello\""),
        "{err}"
    );
}

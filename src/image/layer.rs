//! The application layer: a deterministic tar (sorted entries, fixed owners, modes and
//! times) compressed with deterministic gzip.

use std::io::Write;

use base64::Engine;
use flate2::{Compression, GzBuilder};
use sha2::{Digest, Sha256};

use super::error::{Error, Result};

/// Uid and gid of the non-root user the image runs as (the distroless convention).
pub const APP_UID: u32 = 65532;
/// Name of that user in `/etc/passwd`.
pub const APP_USER: &str = "nonroot";
/// Path of the service binary in the image: `/<bin>`, as in `apps/api/Dockerfile`.
pub fn binary_path(bin_name: &str) -> String {
    format!("/{bin_name}")
}
/// Directories a service may write under the read-only root filesystem its task runs with.
/// Fargate (platform 1.4) bind-mounts each task volume as an empty directory owned by root,
/// mode 0755, unless the image declares that path a `VOLUME`: then ECS copies the image's
/// directory, owner included, into it (ECS developer guide, "Use bind mounts with Amazon
/// ECS"; aws/containers-roadmap#938). So the image makes each one writable by the app user
/// (`/tmp` world-writable with the sticky bit, the others owned by it) and declares them all.
pub const WRITABLE: [&str; 2] = ["/tmp", "/data"];
/// CA bundle path (Debian's), also exported as `SSL_CERT_FILE`.
pub const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// One compressed layer with its two digests.
#[derive(Debug, Clone)]
pub struct Layer {
    /// The `tar+gzip` bytes.
    pub data: bytes::Bytes,
    /// `sha256:` of `data` (the blob digest).
    pub digest: String,
    /// `sha256:` of the uncompressed tar (the config's `diff_id`).
    pub diff_id: String,
}

/// What a tar entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A directory.
    Dir,
    /// A regular file with its content.
    File(Vec<u8>),
}

/// One entry of the layer: path without leading `/`, directories ending in `/`.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Path inside the image, e.g. `etc/passwd` or `tmp/`.
    pub path: String,
    /// Permission bits (with sticky bit for `/tmp`).
    pub mode: u32,
    /// Owner uid and gid.
    pub owner: u32,
    /// Directory or file content.
    pub kind: EntryKind,
}

/// The entries of the application layer for binary `bin_name`, sorted by path: the binary,
/// the app user's home and the `writable` directories (see [`WRITABLE`]). With `system_files`
/// (over `scratch`) it also holds `/etc/passwd`, `/etc/group`, the CA bundle and `/tmp`; over a
/// base image those are the base's.
pub fn app_entries(
    binary: Vec<u8>,
    bin_name: &str,
    system_files: bool,
    writable: &[String],
) -> Vec<Entry> {
    let dir = |path: &str, mode, owner| Entry {
        path: path.to_string(),
        mode,
        owner,
        kind: EntryKind::Dir,
    };
    let file = |path: &str, mode, content: Vec<u8>| Entry {
        path: path.to_string(),
        mode,
        owner: 0,
        kind: EntryKind::File(content),
    };
    let passwd = format!(
        "root:x:0:0:root:/root:/sbin/nologin\n\
         {APP_USER}:x:{APP_UID}:{APP_UID}:{APP_USER}:/home/{APP_USER}:/sbin/nologin\n"
    );
    let group = format!("root:x:0:\n{APP_USER}:x:{APP_UID}:\n");
    let mut entries = vec![
        dir("etc/", 0o755, 0),
        file("etc/group", 0o644, group.into_bytes()),
        file("etc/passwd", 0o644, passwd.into_bytes()),
        dir("etc/ssl/", 0o755, 0),
        dir("etc/ssl/certs/", 0o755, 0),
        file(CA_BUNDLE.trim_start_matches('/'), 0o644, ca_bundle_pem()),
        dir("home/", 0o755, 0),
        dir(&format!("home/{APP_USER}/"), 0o700, APP_UID),
        dir("tmp/", 0o1777, 0),
        file(&binary_path(bin_name)[1..], 0o755, binary),
    ];
    if !system_files {
        entries.retain(|e| !e.path.starts_with("etc/") && e.path != "tmp/");
    }
    for path in writable.iter().map(|p| p.trim_matches('/')) {
        if path.is_empty() || path == "tmp" {
            continue;
        }
        // Parents as root 0755, the directory itself the app user's.
        let mut parent = String::new();
        for part in path.split('/') {
            parent.push_str(part);
            parent.push('/');
            if !entries.iter().any(|e| e.path == parent) {
                let owner = if parent.len() == path.len() + 1 {
                    APP_UID
                } else {
                    0
                };
                entries.push(dir(&parent, 0o755, owner));
            }
        }
    }
    // Directories precede their children when sorted by path bytes.
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    entries
}

/// Mozilla's root CAs (from the `webpki-root-certs` crate, pinned by Cargo.lock) as PEM,
/// so the bundle does not depend on the build machine's certificates.
pub fn ca_bundle_pem() -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut pem = String::new();
    for cert in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        let encoded = b64.encode(cert.as_ref());
        for line in encoded.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
            pem.push('\n');
        }
        pem.push_str("-----END CERTIFICATE-----\n");
    }
    pem.into_bytes()
}

/// Writes `entries` (in the given order) as a ustar archive with every timestamp set to
/// `mtime`, then gzips it at level 6 (half the time of level 9 for ~1% more bytes)
/// with fixed header fields (no name, mtime 0, OS unknown).
pub fn pack(entries: &[Entry], mtime: u64) -> Result<Layer> {
    pack_cached(entries, mtime, None)
}

/// [`pack`], reusing the gzip made earlier for the same archive from `cache` (compressing
/// a 12 MB binary is most of a no-change `up`). The gzip is deterministic, so a cached
/// layer is byte for byte what `pack` would make; a corrupt entry is detected and replaced.
pub fn pack_cached(
    entries: &[Entry],
    mtime: u64,
    cache: Option<&std::path::Path>,
) -> Result<Layer> {
    let tar = tar_bytes(entries, mtime).map_err(Error::Layer)?;
    let diff_id = sha256(&tar);
    let cached = cache.map(|dir| dir.join(format!("{}.tar.gz", &diff_id["sha256:".len()..])));
    if let Some(path) = &cached
        && let Ok(data) = std::fs::read(path)
        && gunzipped_sha256(&data).as_deref() == Some(diff_id.as_str())
    {
        return Ok(Layer {
            digest: sha256(&data),
            diff_id,
            data: data.into(),
        });
    }
    let mut gz = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::with_capacity(tar.len() / 2), Compression::new(6));
    gz.write_all(&tar).map_err(Error::Layer)?;
    let data = gz.finish().map_err(Error::Layer)?;
    if let Some(path) = &cached {
        // Best effort: a cache that cannot be written only costs time.
        let _ = std::fs::create_dir_all(path.parent().expect("in a directory"));
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, &data).is_ok() {
            let _ = std::fs::rename(&tmp, path);
        }
    }
    Ok(Layer {
        digest: sha256(&data),
        diff_id,
        data: data.into(),
    })
}

fn tar_bytes(entries: &[Entry], mtime: u64) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_ustar();
        header.set_path(&entry.path)?;
        header.set_mode(entry.mode);
        header.set_uid(entry.owner.into());
        header.set_gid(entry.owner.into());
        header.set_mtime(mtime);
        let content: &[u8] = match &entry.kind {
            EntryKind::Dir => {
                header.set_entry_type(tar::EntryType::Directory);
                &[]
            }
            EntryKind::File(content) => {
                header.set_entry_type(tar::EntryType::Regular);
                content
            }
        };
        header.set_size(content.len() as u64);
        header.set_cksum();
        builder.append(&header, content)?;
    }
    builder.into_inner()
}

fn gunzipped_sha256(gz: &[u8]) -> Option<String> {
    use std::io::Read;
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut tar)
        .ok()?;
    Some(sha256(&tar))
}

/// `sha256:<hex>` of `data`.
pub fn sha256(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

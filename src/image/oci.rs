//! OCI image config and manifest documents, serialised deterministically.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::layer::sha256;
use super::platform::Platform;

/// Media type of an OCI image manifest.
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// Media type of an OCI image config.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// Media type of a gzip-compressed layer.
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// A content-addressed blob (config or layer) held in memory.
#[derive(Debug, Clone)]
pub struct Blob {
    /// Its media type.
    pub media_type: String,
    /// `sha256:<hex>` of `data`.
    pub digest: String,
    /// The content.
    pub data: bytes::Bytes,
}

impl Blob {
    /// A blob for `data`, digest computed.
    pub fn new(media_type: &str, data: impl Into<bytes::Bytes>) -> Blob {
        let data = data.into();
        Blob {
            media_type: media_type.to_string(),
            digest: sha256(&data),
            data,
        }
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        self.data.len() as u64
    }

    fn descriptor(&self) -> Value {
        json!({ "mediaType": self.media_type, "digest": self.digest, "size": self.size() })
    }
}

/// The runtime settings and provenance written into the image config.
#[derive(Debug, Clone)]
pub struct ImageSettings {
    /// Target platform.
    pub platform: Platform,
    /// Absolute path of the binary, the whole entrypoint.
    pub entrypoint: Vec<String>,
    /// `User` value, `uid:gid`.
    pub user: String,
    /// Exposed TCP port, also set as `PORT` in the environment.
    pub port: u16,
    /// Environment `KEY=VALUE` entries (override the base image's by key).
    pub env: Vec<String>,
    /// Labels (merged over the base image's).
    pub labels: BTreeMap<String, String>,
    /// Paths declared as volumes (merged over the base image's), see [`super::layer::WRITABLE`].
    pub volumes: Vec<String>,
    /// `created` time, RFC 3339.
    pub created: String,
}

/// The image config JSON: `base_config` (the base image's config document, if any) with
/// our settings laid over it and our layer's `diff_id` appended.
pub fn config_json(
    settings: &ImageSettings,
    base_config: Option<&Value>,
    diff_id: &str,
) -> Vec<u8> {
    let base = base_config.cloned().unwrap_or_else(|| json!({}));
    let mut cfg = object(base.get("config"));
    let mut env: Vec<String> = array(cfg.get("Env"))
        .into_iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    for entry in &settings.env {
        let key = entry.split('=').next().unwrap_or_default();
        env.retain(|e| e.split('=').next() != Some(key));
        env.push(entry.clone());
    }
    let mut ports = object(cfg.get("ExposedPorts"));
    ports.insert(format!("{}/tcp", settings.port), json!({}));
    let mut labels = object(cfg.get("Labels"));
    for (k, v) in &settings.labels {
        labels.insert(k.clone(), json!(v));
    }
    let mut volumes = object(cfg.get("Volumes"));
    for path in &settings.volumes {
        volumes.insert(path.clone(), json!({}));
    }
    // Base-image run settings that would change how our binary starts.
    for key in ["Cmd", "Healthcheck", "OnBuild", "Shell"] {
        cfg.remove(key);
    }
    cfg.insert("Entrypoint".into(), json!(settings.entrypoint));
    cfg.insert("Env".into(), json!(env));
    cfg.insert("ExposedPorts".into(), Value::Object(ports));
    cfg.insert("Labels".into(), Value::Object(labels));
    cfg.insert("StopSignal".into(), json!("SIGTERM"));
    cfg.insert("User".into(), json!(settings.user));
    if !volumes.is_empty() {
        cfg.insert("Volumes".into(), Value::Object(volumes));
    }
    cfg.insert("WorkingDir".into(), json!("/"));

    let mut diff_ids = array(base.pointer("/rootfs/diff_ids"));
    diff_ids.push(json!(diff_id));
    let mut history = array(base.get("history"));
    history.push(json!({
        "created": settings.created,
        "created_by": "stackctl build",
        "comment": "service binary, CA certificates, passwd, writable directories",
    }));
    let mut doc = Map::new();
    doc.insert(
        "architecture".into(),
        json!(settings.platform.architecture()),
    );
    if let Some(variant) = settings.platform.variant() {
        doc.insert("variant".into(), json!(variant));
    }
    doc.insert("os".into(), json!("linux"));
    doc.insert("created".into(), json!(settings.created));
    doc.insert("config".into(), Value::Object(cfg));
    doc.insert(
        "rootfs".into(),
        json!({ "type": "layers", "diff_ids": diff_ids }),
    );
    doc.insert("history".into(), json!(history));
    serde_json::to_vec(&Value::Object(doc)).expect("JSON values serialise")
}

/// The image manifest JSON for `config` and `layers` (base layers first).
pub fn manifest_json(
    config: &Blob,
    layers: &[Blob],
    annotations: &BTreeMap<String, String>,
) -> Vec<u8> {
    let mut doc = Map::new();
    doc.insert("schemaVersion".into(), json!(2));
    doc.insert("mediaType".into(), json!(MANIFEST_MEDIA_TYPE));
    doc.insert("config".into(), config.descriptor());
    doc.insert(
        "layers".into(),
        Value::Array(layers.iter().map(Blob::descriptor).collect()),
    );
    if !annotations.is_empty() {
        doc.insert("annotations".into(), json!(annotations));
    }
    serde_json::to_vec(&Value::Object(doc)).expect("JSON values serialise")
}

fn object(v: Option<&Value>) -> Map<String, Value> {
    v.and_then(Value::as_object).cloned().unwrap_or_default()
}

fn array(v: Option<&Value>) -> Vec<Value> {
    v.and_then(Value::as_array).cloned().unwrap_or_default()
}

//! What ECS injects for a container's `secrets` when a task starts: SSM parameters, and
//! Secrets Manager secrets with a JSON key (`…:secret:NAME:json-key:stage:version`), a key the
//! secret lacks failing the task as it does on ECS.

use aws_sdk_ecs::types::ContainerDefinition;

use super::dataplane::{ControlPlane, container};

/// The values ECS would inject for the task definition's `secrets` (Err: a parameter is
/// gone, so ECS could not start the task).
pub async fn secrets(
    cp: &ControlPlane,
    task_definition: &str,
) -> Result<Vec<(String, String)>, String> {
    resolve(cp, &container(&cp.aws, task_definition).await).await
}

/// Resolves the container's `secrets` as ECS does when a task starts.
pub async fn resolve(
    cp: &ControlPlane,
    c: &ContainerDefinition,
) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for s in c.secrets() {
        let from = s.value_from();
        let value = if let Some((_, name)) = from.split_once(":parameter") {
            let got = cp
                .aws
                .ssm
                .get_parameter()
                .name(name)
                .with_decryption(true)
                .send()
                .await
                .map_err(|e| format!("ResourceInitializationError: {name}: {e:?}"))?;
            got.parameter().and_then(|p| p.value()).unwrap().to_string()
        } else {
            secrets_manager_value(cp, from).await?
        };
        out.push((s.name().to_string(), value));
    }
    Ok(out)
}

/// A Secrets Manager reference: the secret's ARN (7 `:`-separated fields), then optionally
/// `json-key:version-stage:version-id` (ECS developer guide, "Pass Secrets Manager secrets
/// through Amazon ECS environment variables"). With a key, the secret must be a JSON object
/// holding it, or the task does not start.
async fn secrets_manager_value(cp: &ControlPlane, from: &str) -> Result<String, String> {
    let fields: Vec<&str> = from.split(':').collect();
    assert!(
        fields.len() >= 7 && fields[2] == "secretsmanager" && fields[5] == "secret",
        "neither an SSM parameter nor a Secrets Manager secret: {from}"
    );
    let arn = fields[..7].join(":");
    let field = |i: usize| fields.get(i).copied().filter(|f| !f.is_empty());
    let (key, stage, version) = (field(7), field(8), field(9));
    let got = cp
        .secrets
        .get_secret_value()
        .secret_id(&arn)
        .set_version_stage(stage.map(str::to_string))
        .set_version_id(version.map(str::to_string))
        .send()
        .await
        .map_err(|e| format!("ResourceInitializationError: {arn}: {e:?}"))?;
    let text = got.secret_string().unwrap_or_default().to_string();
    let Some(key) = key else { return Ok(text) };
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|_| format!("ResourceInitializationError: {arn} is not JSON"))?;
    match &json[key] {
        serde_json::Value::String(v) => Ok(v.clone()),
        serde_json::Value::Null => Err(format!(
            "ResourceInitializationError: {arn} has no key {key}"
        )),
        other => Ok(other.to_string()),
    }
}

//! The content of a task definition as registered: its one container (image, user, read-only
//! root, mounts, environment, secrets, health check, logs) and the task-level settings every
//! revision gets, and the same read back. Pure: `task_definition` registers it, `explain`
//! shows it.

use std::collections::BTreeMap;

use aws_sdk_ecs::types::{
    Compatibility, ContainerDefinition, CpuArchitecture, HealthCheck, KeyValuePair,
    LogConfiguration, LogDriver, MountPoint, NetworkMode, OsFamily, PortMapping, Secret,
    TaskDefinition, TransportProtocol,
};

use crate::plan::TaskDef;

/// Prefix of the log streams: `ecs/<container>/<task id>`.
pub const LOG_STREAM_PREFIX: &str = "ecs";
/// Fargate tasks: `awsvpc` networking, Linux on x86-64.
pub const COMPATIBILITY: Compatibility = Compatibility::Fargate;
pub const NETWORK_MODE: NetworkMode = NetworkMode::Awsvpc;
pub const CPU_ARCHITECTURE: CpuArchitecture = CpuArchitecture::X8664;
pub const OS_FAMILY: OsFamily = OsFamily::Linux;
/// The container's own health probe, in seconds (and failures before unhealthy).
pub const HEALTH_INTERVAL: i32 = 10;
pub const HEALTH_TIMEOUT: i32 = 5;
pub const HEALTH_RETRIES: i32 = 3;
pub const HEALTH_START_PERIOD: i32 = 10;

/// What a registered task definition holds, as a [`TaskDef`] (compared with the desired one).
pub fn parsed(td: &TaskDefinition) -> TaskDef {
    let c = td.container_definitions().first();
    let pairs = |v: &[KeyValuePair]| -> BTreeMap<String, String> {
        v.iter()
            .filter_map(|p| Some((p.name()?.to_string(), p.value()?.to_string())))
            .collect()
    };
    let log = c
        .and_then(|c| c.log_configuration())
        .and_then(|l| l.options());
    let log_option = |k: &str| log.and_then(|o| o.get(k)).cloned().unwrap_or_default();
    TaskDef {
        cpu: td.cpu().and_then(|v| v.parse().ok()).unwrap_or_default(),
        memory: td.memory().and_then(|v| v.parse().ok()).unwrap_or_default(),
        execution_role: td.execution_role_arn().unwrap_or_default().into(),
        task_role: td.task_role_arn().unwrap_or_default().into(),
        image: c.and_then(|c| c.image()).map(str::to_string),
        port: c
            .and_then(|c| c.port_mappings().first())
            .and_then(|p| p.container_port())
            .unwrap_or_default() as u16,
        environment: c.map(|c| pairs(c.environment())).unwrap_or_default(),
        secrets: c
            .map(|c| {
                c.secrets()
                    .iter()
                    .map(|s| (s.name().to_string(), s.value_from().to_string()))
                    .collect()
            })
            .unwrap_or_default(),
        log_group: log_option("awslogs-group"),
        log_region: log_option("awslogs-region"),
        health_command: Some(
            c.and_then(|c| c.health_check())
                .map(|h| h.command().to_vec())
                .unwrap_or_default(),
        ),
        stop_timeout: c.and_then(|c| c.stop_timeout()).unwrap_or_default(),
        user: c.and_then(|c| c.user()).unwrap_or_default().into(),
        read_only_root: c
            .and_then(|c| c.readonly_root_filesystem())
            .unwrap_or(false),
        volumes: c
            .map(|c| {
                c.mount_points()
                    .iter()
                    .filter_map(|m| Some((m.source_volume()?.into(), m.container_path()?.into())))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The container of `def`, named `container`, as the task definition holds it (Fargate runs
/// it from exactly this: image, user, read-only root, mounts, secrets, health check).
pub fn container_definition(container: &str, def: &TaskDef) -> Result<ContainerDefinition, String> {
    let image = def.image.as_deref().ok_or("no image built")?;
    let pairs = |m: &BTreeMap<String, String>| {
        m.iter()
            .map(|(k, v)| KeyValuePair::builder().name(k).value(v).build())
            .collect::<Vec<_>>()
    };
    let secrets = def
        .secrets
        .iter()
        .map(|(k, v)| Secret::builder().name(k).value_from(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let log = LogConfiguration::builder()
        .log_driver(LogDriver::Awslogs)
        .options("awslogs-group", &def.log_group)
        .options("awslogs-region", &def.log_region)
        .options("awslogs-stream-prefix", LOG_STREAM_PREFIX)
        .build()
        .map_err(|e| e.to_string())?;
    let mut c = ContainerDefinition::builder()
        .name(container)
        .image(image)
        .essential(true)
        .port_mappings(
            PortMapping::builder()
                .container_port(def.port.into())
                .protocol(TransportProtocol::Tcp)
                .build(),
        )
        .set_environment(Some(pairs(&def.environment)))
        .set_secrets(Some(secrets))
        .log_configuration(log)
        .stop_timeout(def.stop_timeout)
        .readonly_root_filesystem(def.read_only_root);
    if !def.user.is_empty() {
        c = c.user(&def.user);
    }
    if let Some(cmd) = def.health_command.as_ref().filter(|c| !c.is_empty()) {
        let check = HealthCheck::builder()
            .set_command(Some(cmd.clone()))
            .interval(HEALTH_INTERVAL)
            .timeout(HEALTH_TIMEOUT)
            .retries(HEALTH_RETRIES)
            .start_period(HEALTH_START_PERIOD)
            .build()
            .map_err(|e| e.to_string())?;
        c = c.health_check(check);
    }
    for (volume, path) in &def.volumes {
        c = c.mount_points(
            MountPoint::builder()
                .source_volume(volume)
                .container_path(path)
                .read_only(false)
                .build(),
        );
    }
    Ok(c.build())
}

/// The RegisterTaskDefinition request for `def`, in ECS's own field names (for `explain`):
/// the container definition is the one `task_definition::register` sends.
pub fn request_json(container: &str, def: &TaskDef) -> serde_json::Value {
    use serde_json::json;
    let c = match container_definition(container, def) {
        Ok(c) => c,
        Err(e) => return json!({ "error": e }),
    };
    let health = c.health_check().map(|h| {
        json!({
            "command": h.command(),
            "interval": h.interval(),
            "timeout": h.timeout(),
            "retries": h.retries(),
            "startPeriod": h.start_period(),
        })
    });
    let log = c
        .log_configuration()
        .map(|l| json!({ "logDriver": l.log_driver().as_str(), "options": l.options() }));
    let container = json!({
        "name": c.name(),
        "image": c.image(),
        "essential": c.essential(),
        "user": c.user(),
        "readonlyRootFilesystem": c.readonly_root_filesystem(),
        "portMappings": c.port_mappings().iter().map(|p| json!({
            "containerPort": p.container_port(),
            "protocol": p.protocol().map(|p| p.as_str()),
        })).collect::<Vec<_>>(),
        "environment": c.environment().iter().map(|e| json!({
            "name": e.name(), "value": e.value(),
        })).collect::<Vec<_>>(),
        "secrets": c.secrets().iter().map(|s| json!({
            "name": s.name(), "valueFrom": s.value_from(),
        })).collect::<Vec<_>>(),
        "mountPoints": c.mount_points().iter().map(|m| json!({
            "sourceVolume": m.source_volume(),
            "containerPath": m.container_path(),
            "readOnly": m.read_only(),
        })).collect::<Vec<_>>(),
        "healthCheck": health,
        "stopTimeout": c.stop_timeout(),
        "logConfiguration": log,
    });
    json!({
        "requiresCompatibilities": [COMPATIBILITY.as_str()],
        "networkMode": NETWORK_MODE.as_str(),
        "cpu": def.cpu.to_string(),
        "memory": def.memory.to_string(),
        "runtimePlatform": {
            "cpuArchitecture": CPU_ARCHITECTURE.as_str(),
            "operatingSystemFamily": OS_FAMILY.as_str(),
        },
        "executionRoleArn": def.execution_role,
        "taskRoleArn": def.task_role,
        "volumes": def.volumes.keys().map(|v| json!({ "name": v })).collect::<Vec<_>>(),
        "containerDefinitions": [container],
    })
}

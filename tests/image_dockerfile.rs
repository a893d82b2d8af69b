//! `apps/api/Dockerfile` and the daemonless image must start the service the same way:
//! same entrypoint (and command), same exposed port, same user, same declared volumes.

mod image_support;

use std::collections::BTreeSet;

use image_support::{build, build_dir, layer_files, repo_root};
use serde_json::Value;
use stackctl::image::BuildSpec;

/// The runtime instructions of a Dockerfile's final stage.
#[derive(Debug, Default)]
struct FinalStage {
    entrypoint: Vec<String>,
    cmd: Vec<String>,
    expose: BTreeSet<String>,
    user: Option<String>,
    env: Vec<(String, String)>,
    volumes: BTreeSet<String>,
}

/// Joins continuation lines, drops comments, and keeps the instructions after the
/// last `FROM`. Exec-form (JSON) and shell-form arguments are both understood.
fn parse_final_stage(dockerfile: &str) -> FinalStage {
    let mut logical = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines() {
        let trimmed = line.trim();
        if current.is_empty() && (trimmed.starts_with('#') || trimmed.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => current.push_str(&format!("{part} ")),
            None => {
                current.push_str(trimmed);
                logical.push(std::mem::take(&mut current));
            }
        }
    }
    let mut stage = FinalStage::default();
    for line in logical {
        let (instruction, args) = line.split_once(char::is_whitespace).unwrap_or((&line, ""));
        let args = args.trim();
        let argv = || -> Vec<String> {
            serde_json::from_str(args)
                .unwrap_or_else(|_| vec!["/bin/sh".into(), "-c".into(), args.to_string()])
        };
        match instruction.to_ascii_uppercase().as_str() {
            "FROM" => stage = FinalStage::default(),
            "ENTRYPOINT" => {
                stage.entrypoint = argv();
                stage.cmd.clear(); // ENTRYPOINT resets an inherited CMD
            }
            "CMD" => stage.cmd = argv(),
            "EXPOSE" => stage.expose.extend(args.split_whitespace().map(|p| {
                if p.contains('/') {
                    p.to_string()
                } else {
                    format!("{p}/tcp")
                }
            })),
            "USER" => stage.user = Some(args.to_string()),
            "VOLUME" => stage.volumes.extend(
                serde_json::from_str::<Vec<String>>(args)
                    .unwrap_or_else(|_| args.split_whitespace().map(String::from).collect()),
            ),
            "ENV" if args.contains('=') => stage.env.extend(args.split_whitespace().map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (k.to_string(), v.trim_matches('"').to_string())
            })),
            "ENV" => {
                let (k, v) = args.split_once(char::is_whitespace).unwrap_or((args, ""));
                stage.env.push((k.to_string(), v.trim().to_string()));
            }
            _ => {}
        }
    }
    stage
}

/// `uid[:gid]` of a USER value, names looked up in the image's passwd/group files.
fn numeric_user(user: &str, passwd: &str, group: &str) -> String {
    let lookup = |name: &str, table: &str, field: usize| -> String {
        if name.parse::<u32>().is_ok() {
            return name.to_string();
        }
        table
            .lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f[0] == name)
            .unwrap_or_else(|| panic!("{name} not in\n{table}"))[field]
            .to_string()
    };
    match user.split_once(':') {
        Some((u, g)) => format!("{}:{}", lookup(u, passwd, 2), lookup(g, group, 2)),
        None => {
            let uid = lookup(user, passwd, 2);
            let gid = passwd
                .lines()
                .find(|l| l.split(':').nth(2) == Some(uid.as_str()))
                .and_then(|l| l.split(':').nth(3))
                .unwrap_or(&uid)
                .to_string();
            format!("{uid}:{gid}")
        }
    }
}

#[test]
fn the_parser_reads_the_final_stage() {
    let stage = parse_final_stage(
        "FROM rust AS build\nUSER builder\nEXPOSE 1\n# comment\nFROM scratch\n\
         COPY --from=build /a /usr/local/bin/api\nEXPOSE 8080\nUSER 65532:65532\n\
         ENV PORT=8080 A=\"b\"\nENV C d e\nVOLUME [\"/tmp\", \"/data\"]\nVOLUME /x\n\
         ENTRYPOINT [\"/usr/local/bin/api\"]\nCMD \\\n  [\"serve\"]\n",
    );
    assert_eq!(stage.entrypoint, ["/usr/local/bin/api"]);
    assert_eq!(stage.cmd, ["serve"]);
    assert_eq!(stage.expose, BTreeSet::from(["8080/tcp".to_string()]));
    assert_eq!(stage.user.as_deref(), Some("65532:65532"));
    let env = |k: &str, v: &str| (k.to_string(), v.to_string());
    assert_eq!(
        stage.env,
        [env("PORT", "8080"), env("A", "b"), env("C", "d e")]
    );
    assert_eq!(
        stage.volumes,
        BTreeSet::from(["/tmp".into(), "/data".into(), "/x".into()])
    );
    assert_eq!(numeric_user("nonroot", "nonroot:x:7:8:::\n", ""), "7:8");
}

#[tokio::test]
async fn dockerfile_and_daemonless_image_start_the_api_the_same_way() {
    let dockerfile = std::fs::read_to_string(repo_root().join("apps/api/Dockerfile"))
        .expect("apps/api/Dockerfile");
    let stage = parse_final_stage(&dockerfile);
    let image = build(&BuildSpec {
        package_dir: repo_root().join("apps/api"),
        target_dir: Some(build_dir("api")),
        ..BuildSpec::default()
    })
    .await;
    let cfg: Value = image.config_json()["config"].clone();
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    let image_argv = [strings(&cfg["Entrypoint"]), strings(&cfg["Cmd"])].concat();
    assert_eq!(
        image_argv,
        [stage.entrypoint.clone(), stage.cmd.clone()].concat()
    );
    let port_env = |env: Vec<(String, String)>| env.into_iter().find(|(k, _)| k == "PORT");
    let image_env = strings(&cfg["Env"]).into_iter().map(|kv| {
        let (k, v) = kv.split_once('=').unwrap();
        (k.to_string(), v.to_string())
    });
    assert_eq!(port_env(image_env.collect()), port_env(stage.env.clone()));
    let ports: BTreeSet<String> = cfg["ExposedPorts"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(ports, stage.expose);

    let files = layer_files(&image.layers[0].data);
    let text = |p: &str| String::from_utf8(files[p].clone()).unwrap();
    let (passwd, group) = (text("etc/passwd"), text("etc/group"));
    let dockerfile_user = stage.user.as_deref().expect("the Dockerfile sets USER");
    assert_eq!(
        numeric_user(cfg["User"].as_str().unwrap(), &passwd, &group),
        numeric_user(dockerfile_user, &passwd, &group),
    );
    assert_ne!(cfg["User"], "0:0");
    // Under a read-only root the service writes only there (Fargate mounts them, see
    // stackctl::image::layer::WRITABLE).
    let volumes: BTreeSet<String> = cfg["Volumes"]
        .as_object()
        .expect("the image declares volumes")
        .keys()
        .cloned()
        .collect();
    assert_eq!(volumes, stage.volumes);
}

//! The API token is never printed: everything stackctl writes to stdout and stderr, with
//! RUST_LOG=trace (the SDK logs requests, PutParameter's value included, to any tracing
//! subscriber: stackctl installs none), for up (with and without faults), plan (text and
//! JSON), validate and down, is searched for the token read back from SSM.

mod common;

use common::{Project, Run, clients, moto};
use faultproxy::{Profile, Proxy};

fn traced(p: &Project, endpoint: &str, args: &[&str]) -> Run {
    let mut cmd = p.command(endpoint, args);
    cmd.env("RUST_LOG", "trace")
        .env("RUST_BACKTRACE", "1")
        .env("AWS_LOG_LEVEL", "trace");
    Run::from(cmd.output().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_appears_in_no_output() {
    let Some(moto) = moto() else { return };
    let p = Project::new(&moto, "");
    let mut outputs = vec![
        traced(&p, &moto, &["validate"]),
        traced(&p, &moto, &["plan"]),
        traced(&p, &moto, &["plan", "--output", "json"]),
    ];
    // The token is made during this up, with retries and errors printed around it.
    let cfg = common::faults(&moto, 3, 0.3).with_profile(Profile::Transient);
    let proxy = Proxy::start(cfg).await.unwrap();
    let url = proxy.url();
    let up = tokio::task::spawn_blocking({
        let cmd = p.command(&url, &["up"]);
        let mut cmd = cmd;
        cmd.env("RUST_LOG", "trace");
        move || Run::from(cmd.output().unwrap())
    });
    outputs.push(up.await.unwrap().ok());
    assert!(proxy.stats().total_faults > 0, "faults were injected");
    proxy.shutdown().await;

    outputs.extend([
        traced(&p, &moto, &["up"]).ok(),
        traced(&p, &moto, &["plan", "--detailed-exitcode"]),
        traced(&p, &moto, &["plan", "--output", "json"]).ok(),
        traced(&p, &moto, &["status"]).ok(),
        traced(&p, &moto, &["status", "--output", "json"]).ok(),
        traced(&p, &moto, &["rotate-token"]).ok(),
        traced(&p, &moto, &["logs", "api"]).ok(),
    ]);
    // Both generations, read back from SSM: neither may show anywhere but `token` itself.
    let aws = clients(&moto).await;
    let mut tokens = Vec::new();
    for generation in [1, 2] {
        let param = aws
            .ssm
            .get_parameter()
            .name(format!(
                "/stackctl/{}/default/api/token/{generation}",
                p.name
            ))
            .with_decryption(true)
            .send()
            .await
            .unwrap();
        let token = param.parameter().unwrap().value().unwrap().to_string();
        assert_eq!(token.len(), 43, "the real token was read back");
        tokens.push(token);
    }
    // Nor in any revision of the task definition (only SSM references are).
    let family = format!("{}-default-api", p.name);
    let mut defs = String::new();
    for revision in [1, 2] {
        let td = aws
            .ecs
            .describe_task_definition()
            .task_definition(format!("{family}:{revision}"))
            .send()
            .await
            .unwrap();
        defs.push_str(&format!("{:?}", td.task_definition().unwrap()));
    }
    assert!(
        defs.contains(":parameter/stackctl/"),
        "secrets are SSM references"
    );
    outputs.push(traced(&p, &moto, &["down", "--yes"]).ok());
    let all: String = outputs.iter().map(Run::all).collect::<Vec<_>>().join("\n") + &defs;
    // Whole, or a recognisable piece of it (a truncated or wrapped print).
    for token in &tokens {
        for piece in [&token[..], &token[..16], &token[token.len() - 16..]] {
            assert!(
                !all.contains(piece),
                "the token (or part of it) was printed"
            );
        }
    }
    assert!(
        !all.contains("PutParameter") || !all.contains("\"Value\""),
        "request bodies are not logged"
    );
}

//! The API token is never printed: everything stackctl writes to stdout and stderr, with
//! RUST_LOG=trace (the SDK logs requests, PutParameter's value included, to any tracing
//! subscriber: stackctl installs none), for up (with and without faults), plan (text and
//! JSON), validate and down, is searched for the token read back from SSM.

mod common;

use common::{Project, Run, clients, moto};
use faultproxy::{FaultConfig, Profile, Proxy};

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
    let cfg = FaultConfig::new(moto.parse().unwrap(), 3, 0.3).with_profile(Profile::Transient);
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

    let param = clients(&moto)
        .await
        .ssm
        .get_parameter()
        .name(format!("/stackctl/{}/default/api/token", p.name))
        .with_decryption(true)
        .send()
        .await
        .unwrap();
    let token = param.parameter().unwrap().value().unwrap().to_string();
    assert_eq!(token.len(), 43, "the real token was read back");

    outputs.extend([
        traced(&p, &moto, &["up"]).ok(),
        traced(&p, &moto, &["plan", "--detailed-exitcode"]),
        traced(&p, &moto, &["plan", "--output", "json"]).ok(),
        traced(&p, &moto, &["down", "--yes"]).ok(),
    ]);
    let all: String = outputs.iter().map(Run::all).collect::<Vec<_>>().join("\n");
    // Whole, or a recognisable piece of it (a truncated or wrapped print).
    for piece in [&token[..], &token[..16], &token[token.len() - 16..]] {
        assert!(
            !all.contains(piece),
            "the token (or part of it) was printed"
        );
    }
    assert!(
        !all.contains("PutParameter") || !all.contains("\"Value\""),
        "request bodies are not logged"
    );
}

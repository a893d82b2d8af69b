//! Every file in tests/bad-stacks/ is rejected before any AWS call, with the message its
//! header announces: `# expect: file:line:column: what` and optionally `# hint: fix`.

use std::path::Path;

use stackctl::config;

#[test]
fn every_bad_stack_is_rejected_with_its_message() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(root.join("tests/bad-stacks"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 30, "the corpus has {} files", files.len());
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let header = |tag: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(tag))
                .map(str::trim)
                .map(str::to_string)
        };
        let expect = header("# expect:")
            .unwrap_or_else(|| panic!("{} has no `# expect:` line", file.display()));
        let hint = header("# hint:");
        let err = match config::parse(Path::new("stack.yaml"), &text, root, None) {
            Ok(_) => {
                failures.push(format!("{}: accepted", file.display()));
                continue;
            }
            Err(e) => e,
        };
        let found = err.issues().iter().find(|i| i.to_string() == expect);
        match found {
            None => failures.push(format!(
                "{}:\n  expected: {expect}\n  got:      {}",
                file.display(),
                err.issues()
                    .iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join("\n            ")
            )),
            Some(issue) if hint.is_some() && issue.hint != hint => failures.push(format!(
                "{}:\n  expected hint: {hint:?}\n  got hint:      {:?}",
                file.display(),
                issue.hint
            )),
            Some(_) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn the_example_stack_is_valid_in_every_environment() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let base = config::load(&root.join("stack.yaml"), None).expect("stack.yaml is valid");
    assert_eq!(base.env, "default");
    assert_eq!(base.services["api"].desired, 2);
    let prod = config::load(&root.join("stack.yaml"), Some("prod")).expect("prod overlay is valid");
    assert_eq!(prod.env, "prod");
    let api = &prod.services["api"];
    assert_eq!((api.desired, api.cpu, api.memory), (3, 512, 1024));
    assert_eq!(
        api.port, 8080,
        "keys the overlay does not set come from the base"
    );
    assert_eq!(api.env.get("RUST_LOG").map(String::as_str), Some("info"));
}

#[test]
fn the_two_tier_example_is_valid_in_every_environment() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/two-tier/stack.yaml");
    let base = config::load(&file, None).expect("examples/two-tier/stack.yaml is valid");
    let (web, users) = (&base.services["web"], &base.services["users"]);
    assert!(web.public && !users.public);
    assert_eq!(web.calls, ["users"]);
    let database = base.database.as_ref().expect("a database");
    assert_eq!(database.services, ["users"]);
    let prod = config::load(&file, Some("prod")).expect("its prod overlay is valid");
    assert_eq!(prod.services["users"].desired, 3);
    assert!(prod.database.unwrap().multi_az);
}

#[test]
fn an_unknown_environment_is_named_with_a_suggestion() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let err = config::load(&root.join("stack.yaml"), Some("prd")).unwrap_err();
    let head = err.to_string();
    let text = format!("{head} {:?}", miette::Report::new(err));
    assert!(text.contains("unknown environment `prd`"), "{text}");
    assert!(text.contains("did you mean `prod`?"), "{text}");
}

#[test]
fn the_schema_describes_every_service_key() {
    let schema = config::schema().to_string();
    for key in [
        "build",
        "image",
        "port",
        "cpu",
        "memory",
        "desired",
        "health",
        "public",
        "token",
        "env",
        "environments",
    ] {
        assert!(schema.contains(&format!("\"{key}\"")), "schema lacks {key}");
    }
}

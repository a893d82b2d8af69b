//! A stack with a `database:` against moto (RDS and Secrets Manager): `up` makes the private
//! network, the subnet group and an encrypted, private instance whose password RDS keeps;
//! the service gets the connection and the secret's keys; a second `up` writes nothing;
//! `down` keeps a final snapshot and nothing else; `up` from that snapshot brings it back.

mod common;

use common::census::{census, empty, expected_with_database};
use common::{Project, clients, moto};

const DATABASE: &str = "database:\n  version: \"18\"\n  services: [api]\n  backup_days: 3\n";

/// The manual snapshots named as `down`'s final ones of instance `id`.
async fn final_snapshots(aws: &stackctl::aws::Aws, id: &str) -> Vec<String> {
    let out = aws
        .rds
        .describe_db_snapshots()
        .snapshot_type("manual")
        .send()
        .await
        .unwrap();
    out.db_snapshots()
        .iter()
        .filter_map(|s| s.db_snapshot_identifier())
        .filter(|s| s.starts_with(&format!("{id}-final-")))
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_is_made_private_converges_and_down_keeps_a_final_snapshot() {
    let Some(moto) = moto() else { return };
    let p = Project::new(&moto, DATABASE);
    let n = &p.name;
    let up = p.run(&["up"]).ok();
    assert!(
        up.stdout.contains("wait for RDS instance") || up.stderr.contains("wait for RDS instance"),
        "{}",
        up.all()
    );
    assert_eq!(census(&moto, n).await, expected_with_database(), "after up");

    let aws = clients(&moto).await;
    let id = format!("{n}-default");
    let out = aws
        .rds
        .describe_db_instances()
        .db_instance_identifier(&id)
        .send()
        .await
        .unwrap();
    let db = &out.db_instances()[0];
    assert_eq!(db.engine(), Some("postgres"));
    assert_eq!(db.storage_encrypted(), Some(true));
    assert_eq!(db.publicly_accessible(), Some(false));
    assert_eq!(db.backup_retention_period(), Some(3));
    assert_eq!(db.master_username(), Some("app"));
    assert_eq!(db.db_name(), Some("app"));
    let secret_arn = db
        .master_user_secret()
        .and_then(|s| s.secret_arn())
        .unwrap();
    let group = db.db_subnet_group().unwrap();
    assert_eq!(group.db_subnet_group_name(), Some(id.as_str()));
    // The instance's subnets are the private ones: no public IPs, no route out.
    let subnet_ids: Vec<String> = group
        .subnets()
        .iter()
        .filter_map(|s| s.subnet_identifier().map(str::to_string))
        .collect();
    assert_eq!(subnet_ids.len(), 2);
    let subnets = aws
        .ec2
        .describe_subnets()
        .set_subnet_ids(Some(subnet_ids.clone()))
        .send()
        .await
        .unwrap();
    for s in subnets.subnets() {
        assert_eq!(s.map_public_ip_on_launch(), Some(false), "{s:?}");
    }
    let tables = aws
        .ec2
        .describe_route_tables()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("association.subnet-id")
                .values(&subnet_ids[0])
                .build(),
        )
        .send()
        .await
        .unwrap();
    let routes = tables.route_tables()[0].routes();
    assert!(
        routes.iter().all(|r| r.gateway_id() == Some("local")),
        "only the VPC's own route: {routes:?}"
    );
    // Port 5432 from the service's group only.
    let sg_id = db.vpc_security_groups()[0].vpc_security_group_id().unwrap();
    let sgs = aws
        .ec2
        .describe_security_groups()
        .group_ids(sg_id)
        .send()
        .await
        .unwrap();
    let rules = sgs.security_groups()[0].ip_permissions();
    assert_eq!(rules.len(), 1);
    assert_eq!(
        (rules[0].from_port(), rules[0].to_port()),
        (Some(5432), Some(5432))
    );
    assert!(rules[0].ip_ranges().is_empty());
    assert_eq!(rules[0].user_id_group_pairs().len(), 1);

    // The secret RDS made holds the instance's user (the double is made faithful to that).
    let sm = common::secrets_manager(&moto).await;
    let value = sm
        .get_secret_value()
        .secret_id(secret_arn)
        .send()
        .await
        .unwrap();
    let creds: serde_json::Value = serde_json::from_str(value.secret_string().unwrap()).unwrap();
    assert_eq!(creds["username"], "app");
    let password = creds["password"].as_str().unwrap().to_string();
    assert!(password.len() >= 20);

    // The service: host, port and name as environment; user and password by the secret's
    // keys; never the password itself.
    let td = aws
        .ecs
        .describe_task_definition()
        .task_definition(format!("{n}-default-api"))
        .send()
        .await
        .unwrap();
    let c = &td.task_definition().unwrap().container_definitions()[0];
    let env: std::collections::BTreeMap<&str, &str> = c
        .environment()
        .iter()
        .filter_map(|kv| Some((kv.name()?, kv.value()?)))
        .collect();
    assert_eq!(
        env.get("DATABASE_HOST").copied(),
        db.endpoint().and_then(|e| e.address())
    );
    assert_eq!(env.get("DATABASE_NAME").copied(), Some("app"));
    assert_eq!(env.get("DATABASE_SSLMODE").copied(), Some("require"));
    let secrets: std::collections::BTreeMap<&str, &str> = c
        .secrets()
        .iter()
        .map(|s| (s.name(), s.value_from()))
        .collect();
    assert_eq!(secrets["DATABASE_USER"], format!("{secret_arn}:username::"));
    assert_eq!(
        secrets["DATABASE_PASSWORD"],
        format!("{secret_arn}:password::")
    );
    let td_json = format!("{:?}", td.task_definition());
    assert!(
        !td_json.contains(&password),
        "the password is in the task definition"
    );
    assert!(
        !up.all().contains(&password),
        "the password is in up's output"
    );

    // Converged: the database is observed and nothing is written.
    let again = p.run(&["up"]).ok();
    assert!(again.stdout.contains("No changes"), "{}", again.all());
    let (reads, writes) = again.calls();
    assert_eq!(writes, 0, "{}", again.all());
    eprintln!("converged up with a database: {reads} reads, 0 writes");

    // `down` keeps a final snapshot, names it, and leaves nothing else.
    let down = p.run(&["down", "--yes"]).ok();
    assert!(
        down.stdout
            .contains("after a final snapshot, which is kept")
            && down
                .stdout
                .contains(&format!("Kept the database's final snapshot {id}-final-")),
        "{}",
        down.all()
    );
    assert_eq!(census(&moto, n).await, empty(), "after down");
    let finals = final_snapshots(&aws, &id).await;
    assert_eq!(finals.len(), 1, "{finals:?}");
    let snapshot = finals[0].to_string();

    // `up` from the snapshot: the instance comes back from it.
    let yaml = std::fs::read_to_string(p.stack_file()).unwrap();
    std::fs::write(
        p.stack_file(),
        yaml.replace(
            "  backup_days: 3\n",
            &format!("  backup_days: 3\n  snapshot: {snapshot}\n"),
        ),
    )
    .unwrap();
    p.run(&["up"]).ok();
    assert_eq!(census(&moto, n).await, expected_with_database(), "restored");
    let converged = p.run(&["up"]).ok();
    assert_eq!(converged.calls().1, 0, "{}", converged.all());

    // `--delete-data`: gone without a snapshot (no terminal here: the flag is the consent).
    let gone = p.run(&["down", "--yes", "--delete-data"]).ok();
    assert!(
        gone.stdout.contains("without a final snapshot"),
        "{}",
        gone.all()
    );
    assert!(!gone.stdout.contains("Kept the database's final snapshot"));
    assert_eq!(census(&moto, n).await, empty(), "after down --delete-data");
    let count = final_snapshots(&aws, &id).await.len();
    assert_eq!(
        count, 1,
        "the first final snapshot is kept, no second one is made"
    );
}

/// `up` never deletes a database: with `database:` gone from stack.yaml the plan is blocked,
/// and deletion protection stops `down` before anything is deleted.
#[tokio::test(flavor = "multi_thread")]
async fn up_never_deletes_the_database_and_protection_stops_down() {
    let Some(moto) = moto() else { return };
    let protected = format!("{DATABASE}  deletion_protection: true\n");
    let p = Project::new(&moto, &protected);
    p.run(&["up"]).ok();
    let yaml = std::fs::read_to_string(p.stack_file()).unwrap();
    let without = yaml.split("database:").next().unwrap().to_string();
    std::fs::write(p.stack_file(), &without).unwrap();
    let up = p.run(&["up"]);
    assert_eq!(up.code, 1, "{}", up.all());
    assert!(
        up.stderr.contains("never deletes a database"),
        "{}",
        up.all()
    );
    std::fs::write(p.stack_file(), &yaml).unwrap();
    let down = p.run(&["down", "--yes"]);
    assert_eq!(down.code, 1, "{}", down.all());
    assert!(
        down.stderr.contains("deletion protection"),
        "{}",
        down.all()
    );
    assert!(
        down.stderr.contains("nothing was deleted"),
        "{}",
        down.all()
    );
    assert_eq!(census(&moto, &p.name).await, expected_with_database());
    // Protection off through `up`, then `down` goes through.
    std::fs::write(
        p.stack_file(),
        yaml.replace("deletion_protection: true", "deletion_protection: false"),
    )
    .unwrap();
    let off = p.run(&["up"]).ok();
    assert!(
        off.stdout.contains("deletion protection off (now)"),
        "{}",
        off.all()
    );
    p.run(&["down", "--yes"]).ok();
    assert_eq!(census(&moto, &p.name).await, empty());
}

/// An instance of the stack's database name made by hand (no stackctl tags) is not the
/// stack's: `up` says so instead of taking it over, and `down` leaves it alone.
#[tokio::test(flavor = "multi_thread")]
async fn a_database_of_the_same_name_made_elsewhere_is_never_taken_over_or_deleted() {
    let Some(moto) = moto() else { return };
    let p = Project::new(&moto, DATABASE);
    let aws = clients(&moto).await;
    let id = format!("{}-default", p.name);
    aws.rds
        .create_db_instance()
        .db_instance_identifier(&id)
        .engine("postgres")
        .db_instance_class("db.t4g.micro")
        .allocated_storage(20)
        .master_username("someone")
        .manage_master_user_password(true)
        .send()
        .await
        .unwrap();

    let up = p.run(&["up"]);
    assert_ne!(up.code, 0, "{}", up.all());
    assert!(up.all().contains("is not this stack's"), "{}", up.all());
    assert!(!up.all().contains("Debug"), "{}", up.all());
    p.run(&["down", "--yes"]).ok();
    let theirs = aws
        .rds
        .describe_db_instances()
        .db_instance_identifier(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        theirs.db_instances().len(),
        1,
        "down deleted an instance not the stack's"
    );
    aws.rds
        .delete_db_instance()
        .db_instance_identifier(&id)
        .skip_final_snapshot(true)
        .send()
        .await
        .unwrap();
    // The census counts by name: with theirs gone, nothing of the stack's is left either.
    assert_eq!(census(&moto, &p.name).await, empty(), "after down");
}

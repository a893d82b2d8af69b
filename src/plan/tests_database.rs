//! The planner with a `database:`: what it adds, in what order, and which changes it makes in
//! place, leaves to the maintenance window or refuses.

use std::path::Path;

use super::test_support::{converged, facts};
use super::*;
use crate::aws::db_instance::{self, Change};
use crate::config;

const DATABASE: &str = "
database:
  version: \"18\"
  services: [api]
environments:
  prod: { database: { size: db.m7g.large, multi_az: true, apply: maintenance-window } }
";

fn stack_with_database(env: Option<&str>) -> config::Stack {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let base = std::fs::read_to_string(root.join("stack.yaml")).unwrap();
    // The example's own `environments:` goes: the test's replaces it.
    let base = base.split("\nenvironments:").next().unwrap();
    let text = format!("{base}\n{DATABASE}");
    config::parse(Path::new("stack.yaml"), &text, root, env).expect("stack with a database")
}

fn db_state(have: &mut [Observed]) -> &mut db_instance::State {
    let o = have
        .iter_mut()
        .find(|o| o.key == desired::db_instance())
        .unwrap();
    let State::DbInstance(s) = &mut o.state else {
        unreachable!()
    };
    s
}

#[test]
fn a_database_adds_private_subnets_its_group_and_instance_and_converges() {
    let want = desired::desired(&stack_with_database(None), &facts());
    let keys: Vec<&str> = want.iter().map(|d| d.key.0.as_str()).collect();
    for k in [
        "subnet/private-1",
        "subnet/private-2",
        "rtb/private",
        "sg/db",
        "dbsubnet/main",
        "db/main",
    ] {
        assert!(keys.contains(&k), "{k} in {keys:?}");
    }
    let spec = |k: Key| &want.iter().find(|d| d.key == k).unwrap().spec;
    let Spec::Subnet(private) = spec(desired::private_subnet(0)) else {
        unreachable!()
    };
    assert!(!private.public);
    assert_eq!(private.cidr, "10.42.128.0/20", "the second half of the VPC");
    let Spec::RouteTable(rtb) = spec(desired::private_route_table()) else {
        unreachable!()
    };
    assert_eq!(rtb.gateway, None, "no way out of the private subnets");
    let Spec::SecurityGroup(sg) = spec(desired::db_sg()) else {
        unreachable!()
    };
    assert_eq!(sg.ingress.len(), 1);
    assert_eq!(sg.ingress[0].to_string(), "tcp/5432 from sg/svc-api");
    // The execution role may read the database's secret, named by the instance's ARN.
    let Spec::Role(exec) = spec(desired::execution_role()) else {
        unreachable!()
    };
    let (_, policy) = exec
        .inline
        .iter()
        .find(|(n, _)| n == "read-database-secret")
        .unwrap();
    assert!(policy.contains("arn:aws:rds:us-east-1:123456789012:db:demo-default"));
    assert!(plan(&want, &converged(&want)).is_empty());
}

#[test]
fn task_definitions_get_the_connection_and_secret_keys_never_values() {
    let stack = stack_with_database(None);
    let mut f = facts();
    let pending = desired::desired(&stack, &f);
    let td = |want: &[Desired]| {
        let Spec::TaskDefinition(t) = &want
            .iter()
            .find(|d| d.key == desired::task_definition("api"))
            .unwrap()
            .spec
        else {
            unreachable!()
        };
        t.def.clone()
    };
    assert_eq!(td(&pending).environment["DATABASE_HOST"], task_def::PENDING);
    f.database = Some(db_instance::Connection {
        host: "demo.abc.us-east-1.rds.amazonaws.com".into(),
        port: 5432,
        name: "app".into(),
        secret_arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1-AbCdEf".into(),
    });
    let def = td(&desired::desired(&stack, &f));
    assert_eq!(
        def.environment["DATABASE_HOST"],
        "demo.abc.us-east-1.rds.amazonaws.com"
    );
    assert_eq!(def.environment["DATABASE_NAME"], "app");
    assert_eq!(def.environment["DATABASE_SSLMODE"], "require");
    assert_eq!(
        def.secrets["DATABASE_PASSWORD"],
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1-AbCdEf:password::"
    );
    assert!(!def.environment.contains_key("DATABASE"));
    // Without `database:` the API is told so, and keeps no payments in a per-task file.
    let plain = super::test_support::stack();
    assert_eq!(
        td(&desired::desired(&plain, &facts())).environment["DATABASE"],
        "none"
    );
}

#[test]
fn in_place_changes_say_when_they_apply_and_pending_ones_are_not_repeated() {
    let prod = desired::desired(&stack_with_database(Some("prod")), &facts());
    let mut have = converged(&prod);
    // As the base file made it, before the `prod` overlay asked for more.
    let s = db_state(&mut have);
    s.size = "db.t4g.micro".into();
    s.multi_az = false;
    let p = plan(&prod, &have);
    assert_eq!(p.changes.len(), 1, "{}", render_text(&p));
    let Action::Update { fixes } = &p.changes[0].action else {
        panic!("{:?}", p.changes[0].action)
    };
    let Fix::DbInstance(db_instance::Fix::Modify { changes, now }) = &fixes[0] else {
        unreachable!()
    };
    assert!(!now);
    assert!(changes.contains(&Change::MultiAz { to: true }));
    assert!(
        render_text(&p).contains(
            "size db.t4g.micro → db.m7g.large, multi-AZ on (in the next maintenance window)"
        ),
        "{}",
        render_text(&p)
    );
    // Accepted by RDS for the window: the instance reports them pending, and they count.
    let s = db_state(&mut have);
    s.size = "db.m7g.large".into();
    s.multi_az = true;
    s.pending = vec!["size db.m7g.large".into(), "multi-AZ on".into()];
    assert!(plan(&prod, &have).is_empty());
    // RDS changes backups at once whatever is asked: the plan does not say it waits.
    db_state(&mut have).backup_days = 3;
    let p = plan(&prod, &have);
    assert!(
        render_text(&p).contains("backups 3 → 7 days (now)"),
        "{}",
        render_text(&p)
    );
}

#[test]
fn changes_rds_cannot_make_as_asked_are_blocked() {
    let want = desired::desired(&stack_with_database(None), &facts());
    type Edit = fn(&mut db_instance::State);
    let cases: [(&str, Edit); 6] = [
        ("runs mysql", |s| s.engine = "mysql".into()),
        ("not encrypted", |s| s.encrypted = false),
        ("major upgrades", |s| s.version = "17.6".into()),
        ("never shrink", |s| s.storage_gb = 100),
        // 20 GiB wanted: from 19, less than 10 % more.
        ("at least 10 %", |s| s.storage_gb = 19),
        ("cannot rename", |s| s.db_name = "other".into()),
    ];
    for (what, edit) in cases {
        let mut have = converged(&want);
        edit(db_state(&mut have));
        let p = plan(&want, &have);
        assert_eq!(p.changes.len(), 1, "{what}");
        let Action::Blocked { reason } = &p.changes[0].action else {
            panic!("{what}: {:?}", p.changes[0].action)
        };
        assert!(reason.contains(what), "{what}: {reason}");
    }
}

#[test]
fn down_deletes_the_instance_before_its_groups_and_the_groups_that_reach_it() {
    let want = desired::desired(&stack_with_database(None), &facts());
    let have = converged(&want);
    let p = plan(&[], &have);
    let deps = order(&p, &[]);
    let pos = |k: &Key| p.changes.iter().position(|c| &c.key == k).unwrap();
    let waits_for = |a: Key, b: Key| deps[pos(&a)].contains(&pos(&b));
    assert!(waits_for(
        desired::db_subnet_group(),
        desired::db_instance()
    ));
    assert!(waits_for(desired::db_sg(), desired::db_instance()));
    assert!(waits_for(
        desired::private_subnet(0),
        desired::db_subnet_group()
    ));
    assert!(
        waits_for(desired::service_sg("api"), desired::db_sg()),
        "the database's group names the service's in its rules: it goes first"
    );
}

//! The database's DB subnet group: the private subnets RDS may place the instance in.

use serde::Serialize;
use serde_json::{Value, json};

use super::kind::{Cx, Resource};
use super::permissions::{Cmd, DB_SUBNET_GROUP, Permission, Scope};
use super::retry::delete_draining;
use super::{Aws, AwsError, Ctx, Outcome};
use crate::names::Names;
use crate::plan::{self, Ids, Key, Kind, Observed, desired};

/// A DB subnet group over the private subnets (RDS requires subnets in two zones or more).
pub struct DbSubnetGroup;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spec {
    pub description: String,
    pub subnets: Vec<Key>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct State {
    pub vpc_id: String,
    pub subnet_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fix", rename_all = "kebab-case")]
pub enum Fix {
    SetSubnets,
}

impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fix::SetSubnets => write!(f, "set its subnets to the private subnets"),
        }
    }
}

impl Resource for DbSubnetGroup {
    type Spec = Spec;
    type State = State;
    type Fix = Fix;
    #[rustfmt::skip]
    const PERMISSIONS: &'static [Permission] = {
        use Cmd::*;
        &[
            ("rds:DescribeDBSubnetGroups", Scope::Arns("TheStacksDbSubnetGroup", DB_SUBNET_GROUP), &[Up, RotateToken, Status, Down, Check]),
            // A group's tags are not in DescribeDBSubnetGroups.
            ("rds:ListTagsForResource", Scope::Arns("TheStacksDbSubnetGroup", DB_SUBNET_GROUP), &[Up, RotateToken, Status, Down, Check]),
            ("rds:CreateDBSubnetGroup", Scope::Arns("TheStacksDbSubnetGroup", DB_SUBNET_GROUP), &[Up]),
            ("rds:ModifyDBSubnetGroup", Scope::Arns("TheStacksDbSubnetGroup", DB_SUBNET_GROUP), &[Up]),
            ("rds:DeleteDBSubnetGroup", Scope::Arns("TheStacksDbSubnetGroup", DB_SUBNET_GROUP), &[Down]),
        ]
    };

    fn deps(spec: &Spec) -> Vec<Key> {
        spec.subnets.clone()
    }

    fn delete_before(_: &Key, other: Kind, _: &Key) -> bool {
        matches!(other, Kind::Subnet | Kind::Vpc)
    }

    fn diff(want: &Spec, have: &State, ids: &Ids) -> Result<Vec<Fix>, String> {
        let mut wanted: Vec<Option<&String>> = want.subnets.iter().map(|s| ids.get(s)).collect();
        wanted.sort();
        let mut had: Vec<Option<&String>> = have.subnet_ids.iter().map(Some).collect();
        had.sort();
        Ok(if wanted == had {
            vec![]
        } else {
            vec![Fix::SetSubnets]
        })
    }

    fn summary(have: &State) -> String {
        format!("{} subnets in {}", have.subnet_ids.len(), have.vpc_id)
    }

    fn settings(_: &Key, _: &Spec) -> Value {
        json!({})
    }

    #[cfg(test)]
    fn converged(spec: &Spec, id: &dyn Fn(&Key) -> String) -> State {
        State {
            vpc_id: id(&desired::vpc()),
            subnet_ids: spec.subnets.iter().map(id).collect(),
        }
    }

    async fn find(aws: &Aws, names: &Names, _: &str) -> Result<Vec<Observed>, AwsError> {
        let name = names.db_subnet_group();
        let out = aws
            .rds
            .describe_db_subnet_groups()
            .db_subnet_group_name(&name)
            .send()
            .await
            .ctx("describe DB subnet group", &name)
            .ok_if_not_found()?;
        let groups = out.as_ref().map(|o| o.db_subnet_groups()).unwrap_or_default();
        let Some(group) = groups
            .iter()
            .find(|g| g.db_subnet_group_name() == Some(name.as_str()))
        else {
            return Ok(Vec::new());
        };
        // One of that name without the stack's tags is not the stack's: never observed, so
        // never changed or deleted (creating one then fails with a clear AlreadyExists).
        let arn = group.db_subnet_group_arn().unwrap_or_default();
        let tags = aws
            .rds
            .list_tags_for_resource()
            .resource_name(arn)
            .send()
            .await
            .ctx("list tags of DB subnet group", &name)
            .ok_if_not_found()?;
        let owned = tags.as_ref().is_some_and(|t| {
            names.owns(
                t.tag_list()
                    .iter()
                    .filter_map(|t| Some((t.key()?, t.value()?))),
            )
        });
        Ok(std::iter::once(group)
            .filter(|_| owned)
            .map(|g| Observed {
                key: desired::db_subnet_group(),
                id: name.clone(),
                name: name.clone(),
                state: plan::State::DbSubnetGroup(State {
                    vpc_id: g.vpc_id().unwrap_or_default().into(),
                    subnet_ids: g
                        .subnets()
                        .iter()
                        .filter_map(|s| s.subnet_identifier().map(str::to_string))
                        .collect(),
                }),
            })
            .collect())
    }

    async fn create(cx: &Cx<'_>, key: &Key, name: &str, spec: &Spec) -> Result<String, AwsError> {
        let req = cx
            .aws
            .rds
            .create_db_subnet_group()
            .db_subnet_group_name(name)
            .db_subnet_group_description(&spec.description)
            .set_subnet_ids(Some(cx.ids_of(&spec.subnets)?))
            .set_tags(Some(super::tags(cx.names, &key.0, name)?));
        match req.send().await.ctx("create DB subnet group", name) {
            // Made by our own attempt whose reply was lost: the next `up` fixes its subnets.
            // One that is not the stack's is never taken over.
            Err(e) if e.is_already_exists() => {
                if Self::find(cx.aws, cx.names, "").await?.is_empty() {
                    let mut e = AwsError::new(
                        "create",
                        format!("DB subnet group {name}"),
                        "a group of that name exists and is not this stack's (it lacks the stack's stackctl:stack and stackctl:env tags)",
                    );
                    e.hint = Some("use another stack or environment name, or delete that group if nothing uses it".into());
                    return Err(e);
                }
            }
            other => {
                other?;
            }
        }
        Ok(name.to_string())
    }

    async fn fix(
        cx: &Cx<'_>,
        want: &Spec,
        have: &Observed,
        _: &State,
        fix: &Fix,
    ) -> Result<(), AwsError> {
        match fix {
            Fix::SetSubnets => {
                cx.aws
                    .rds
                    .modify_db_subnet_group()
                    .db_subnet_group_name(&have.id)
                    .db_subnet_group_description(&want.description)
                    .set_subnet_ids(Some(cx.ids_of(&want.subnets)?))
                    .send()
                    .await
                    .ctx("modify DB subnet group", &have.id)?;
                Ok(())
            }
        }
    }

    async fn delete(cx: &Cx<'_>, have: &Observed, _: &State) -> Result<(), AwsError> {
        delete_draining(|| async {
            cx.aws
                .rds
                .delete_db_subnet_group()
                .db_subnet_group_name(&have.id)
                .send()
                .await
                .ctx("delete DB subnet group", &have.id)
        })
        .await
    }
}

//! What every resource kind implements: one module under `src/aws/` per kind, registered by
//! one row in the table in `src/aws/mod.rs` (which generates [`super::registry`]). The pure
//! half (dependencies, delete ordering, diff) is what the planner asks; the other half acts
//! on AWS.

use std::fmt::Display;
use std::sync::Mutex;

use serde::Serialize;

use super::permissions::Permission;
use super::{Aws, AwsError};
use crate::cost;
use crate::names::Names;
use crate::plan::{Ids, Key, Kind, Observed, Rule};

/// One kind of resource: its desired settings (`Spec`), what AWS reports (`State`) and the
/// corrections `up` can make in place (`Fix`).
// Called only through the registry, with concrete types: no `Send` bound to name.
#[allow(async_fn_in_trait)]
pub trait Resource {
    type Spec: Clone + std::fmt::Debug + PartialEq + Serialize;
    type State: Clone + std::fmt::Debug + PartialEq + Serialize;
    type Fix: Clone + std::fmt::Debug + PartialEq + Serialize + Display;

    /// The IAM actions its find, create, fix and delete call.
    const PERMISSIONS: &'static [Permission];

    /// An account-level resource the stack needs but does not own (a service-linked role,
    /// an identity provider others use): created when missing, not deleted while `have` says
    /// so, whatever stack.yaml says.
    fn shared(_have: &Self::State) -> bool {
        false
    }

    /// Resources that must exist before this one can be created.
    fn deps(spec: &Self::Spec) -> Vec<Key>;

    /// Must this resource (`first`) be deleted before `then`, of kind `other`? AWS refuses to
    /// delete what something still uses.
    fn delete_before(first: &Key, other: Kind, then: &Key) -> bool;

    /// `Ok(fixes)` when it can be brought in line in place; `Err(reason)` when an immutable
    /// property differs. `ids`: the AWS ids of the stack's resources.
    fn diff(want: &Self::Spec, have: &Self::State, ids: &Ids) -> Result<Vec<Self::Fix>, String>;

    /// Lines a plan shows under its creation (empty: the name says enough).
    fn details(_spec: &Self::Spec) -> Vec<String> {
        Vec::new()
    }

    /// One line for `status` (empty: nothing worth saying).
    fn summary(_have: &Self::State) -> String {
        String::new()
    }

    /// What it is billed for in a month once `spec` holds (empty: it is free).
    fn usage(_key: &Key, _spec: &Self::Spec, _in: &cost::Inputs<'_>) -> Vec<cost::Usage> {
        Vec::new()
    }

    /// What it is billed for in a month as AWS reports it now.
    fn usage_now(_key: &Key, _have: &Self::State, _in: &cost::Inputs<'_>) -> Vec<cost::Usage> {
        Vec::new()
    }

    /// What `stackctl explain` shows besides the spec: the settings every resource of the
    /// kind gets. Fields set to `null` are removed (sent in another form).
    fn settings(key: &Key, spec: &Self::Spec) -> serde_json::Value;

    /// What AWS reports once `spec` holds, with `id` giving each resource's id: the planner's
    /// tests check that it plans nothing for it.
    #[cfg(test)]
    fn converged(spec: &Self::Spec, id: &dyn Fn(&Key) -> String) -> Self::State;

    /// The stack's resources of this kind. `role_path`: the IAM path of the stack's roles.
    async fn find(aws: &Aws, names: &Names, role_path: &str) -> Result<Vec<Observed>, AwsError>;

    /// Create it; returns its id (or ARN).
    async fn create(
        cx: &Cx<'_>,
        key: &Key,
        name: &str,
        spec: &Self::Spec,
    ) -> Result<String, AwsError>;

    async fn fix(
        cx: &Cx<'_>,
        want: &Self::Spec,
        have: &Observed,
        state: &Self::State,
        fix: &Self::Fix,
    ) -> Result<(), AwsError>;

    async fn delete(cx: &Cx<'_>, have: &Observed, state: &Self::State) -> Result<(), AwsError>;
}

/// What a kind acts with: the clients, the stack's names and the ids known so far (those
/// observed, and those created by this run).
pub struct Cx<'a> {
    pub aws: &'a Aws,
    pub names: &'a Names,
    ids: Mutex<Ids>,
}

impl<'a> Cx<'a> {
    pub fn new(aws: &'a Aws, names: &'a Names, ids: Ids) -> Cx<'a> {
        Cx {
            aws,
            names,
            ids: Mutex::new(ids),
        }
    }

    /// The id of a resource of the stack, observed or created by now.
    pub fn id(&self, key: &Key) -> Result<String, AwsError> {
        self.ids
            .lock()
            .expect("ids")
            .get(key)
            .cloned()
            .ok_or_else(|| AwsError::new("resolve", key, "not created yet"))
    }

    pub fn ids_of(&self, keys: &[Key]) -> Result<Vec<String>, AwsError> {
        keys.iter().map(|k| self.id(k)).collect()
    }

    pub fn remember(&self, key: &Key, id: String) {
        self.ids.lock().expect("ids").insert(key.clone(), id);
    }

    pub fn into_ids(self) -> Ids {
        self.ids.into_inner().expect("ids")
    }

    /// `rule` with a group of this stack replaced by its id.
    pub fn resolved(&self, rule: &Rule) -> Result<Rule, AwsError> {
        rule.resolved(|k| self.id(k))
    }
}

/// JSON documents compare by meaning (IAM and ECR reformat what they store).
pub fn same_json(a: Option<&String>, b: Option<&String>) -> bool {
    let parse =
        |s: Option<&String>| s.and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok());
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// A JSON document sent as a string (a policy), shown as the document it is.
pub fn parse_json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|_| serde_json::Value::String(s.into()))
}

//! The macro that turns the table of resource kinds in `src/aws/mod.rs` (one row per kind:
//! its name, its module, which implements [`Resource`](super::kind::Resource), its key prefix
//! and its label) into the kinds' modules, `Kind`, the `Spec`, `State` and `Fix` enums, and
//! every dispatch the planner and the engine use, each an exhaustive match: a kind cannot be
//! half-registered.

macro_rules! resource_kinds {
    ($($kind:ident($module:ident) => $prefix:literal, $label:literal;)*) => {
        $(pub mod $module;)*

        /// Every resource kind and the dispatch to its module, generated from the table in
        /// `src/aws/mod.rs`.
        pub mod registry {
            use serde::Serialize;

            use super::kind::{Cx, Resource};
            use super::permissions::Permission;
            use super::{Aws, AwsError, $($module),*};
            use crate::names::Names;
            use crate::plan::{Desired, Ids, Key, Observed};

            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
            #[serde(rename_all = "kebab-case")]
            pub enum Kind {
                $($kind),*
            }

            impl Kind {
                /// In the order observe reads them.
                pub const ALL: &'static [Kind] = &[$(Kind::$kind),*];
                pub fn prefix(self) -> &'static str {
                    match self {
                        $(Kind::$kind => $prefix),*
                    }
                }
                /// Human label used in plans and progress.
                pub fn label(self) -> &'static str {
                    match self {
                        $(Kind::$kind => $label),*
                    }
                }
                /// Must `first` (of this kind) be deleted before `then` (of kind `other`)?
                pub fn delete_before(self, first: &Key, other: Kind, then: &Key) -> bool {
                    match self {
                        $(Kind::$kind => <$module::$kind as Resource>::delete_before(first, other, then)),*
                    }
                }
                /// The IAM actions this kind's calls need.
                pub fn permissions(self) -> &'static [Permission] {
                    match self {
                        $(Kind::$kind => <$module::$kind as Resource>::PERMISSIONS),*
                    }
                }
            }

            /// What a resource should be.
            #[derive(Debug, Clone, PartialEq, Serialize)]
            #[serde(tag = "kind", rename_all = "kebab-case")]
            pub enum Spec {
                $($kind(<$module::$kind as Resource>::Spec)),*
            }

            /// What AWS reports for a resource of the stack.
            #[derive(Debug, Clone, PartialEq, Serialize)]
            #[serde(tag = "kind", rename_all = "kebab-case")]
            pub enum State {
                $($kind(<$module::$kind as Resource>::State)),*
            }

            /// One corrective action on an existing resource.
            #[derive(Debug, Clone, PartialEq, Serialize)]
            #[serde(untagged)]
            pub enum Fix {
                $($kind(<$module::$kind as Resource>::Fix)),*
            }

            impl Spec {
                pub fn kind(&self) -> Kind {
                    match self {
                        $(Spec::$kind(_) => Kind::$kind),*
                    }
                }
                /// Resources that must exist before this one can be created.
                pub fn deps(&self) -> Vec<Key> {
                    match self {
                        $(Spec::$kind(s) => <$module::$kind as Resource>::deps(s)),*
                    }
                }
                /// What AWS reports once this spec holds (`id`: each resource's id).
                #[cfg(test)]
                pub fn converged(&self, id: &dyn Fn(&Key) -> String) -> State {
                    match self {
                        $(Spec::$kind(s) => State::$kind(<$module::$kind as Resource>::converged(s, id))),*
                    }
                }
                /// What a plan lists under the creation of this resource.
                pub fn details(&self) -> Vec<String> {
                    match self {
                        $(Spec::$kind(s) => <$module::$kind as Resource>::details(s)),*
                    }
                }
                /// What it is billed for in a month once this spec holds.
                pub fn usage(&self, key: &Key, inputs: &crate::cost::Inputs<'_>) -> Vec<crate::cost::Usage> {
                    match self {
                        $(Spec::$kind(s) => <$module::$kind as Resource>::usage(key, s, inputs)),*
                    }
                }
                /// The settings `stackctl explain` shows besides the spec.
                pub fn settings(&self, key: &Key) -> serde_json::Value {
                    match self {
                        $(Spec::$kind(s) => <$module::$kind as Resource>::settings(key, s)),*
                    }
                }
            }

            impl State {
                pub fn kind(&self) -> Kind {
                    match self {
                        $(State::$kind(_) => Kind::$kind),*
                    }
                }
                /// What it is billed for in a month as AWS reports it now.
                pub fn usage(&self, key: &Key, inputs: &crate::cost::Inputs<'_>) -> Vec<crate::cost::Usage> {
                    match self {
                        $(State::$kind(s) => <$module::$kind as Resource>::usage_now(key, s, inputs)),*
                    }
                }
                /// Shared by the account (or other stacks): not the stack's to delete.
                pub fn shared(&self) -> bool {
                    match self {
                        $(State::$kind(s) => <$module::$kind as Resource>::shared(s)),*
                    }
                }
                /// One line for `status`.
                pub fn summary(&self) -> String {
                    match self {
                        $(State::$kind(s) => <$module::$kind as Resource>::summary(s)),*
                    }
                }
            }

            impl std::fmt::Display for Fix {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    match self {
                        $(Fix::$kind(x) => x.fmt(f)),*
                    }
                }
            }

            /// `Ok(fixes)` when `have` can be brought in line with `want` in place; `Err(reason)`
            /// when it cannot (an immutable property differs, or it is another kind).
            pub fn diff(want: &Desired, have: &Observed, ids: &Ids) -> Result<Vec<Fix>, String> {
                let mismatch = || format!("{} is observed as a {}", want.key, have.state.kind().label());
                match &want.spec {
                    $(Spec::$kind(w) => {
                        let State::$kind(h) = &have.state else { return Err(mismatch()) };
                        Ok(<$module::$kind as Resource>::diff(w, h, ids)?
                            .into_iter()
                            .map(Fix::$kind)
                            .collect())
                    })*
                }
            }

            /// The stack's resources of `kind`; `role_path`: the IAM path of the stack's roles.
            pub async fn find(
                kind: Kind,
                aws: &Aws,
                names: &Names,
                role_path: &str,
            ) -> Result<Vec<Observed>, AwsError> {
                match kind {
                    $(Kind::$kind => <$module::$kind as Resource>::find(aws, names, role_path).await),*
                }
            }

            /// Create `key` as `spec` says; returns its id.
            pub async fn create(cx: &Cx<'_>, key: &Key, name: &str, spec: &Spec) -> Result<String, AwsError> {
                match spec {
                    $(Spec::$kind(s) => <$module::$kind as Resource>::create(cx, key, name, s).await),*
                }
            }

            /// Apply one fix to `have`, as `want` says.
            pub async fn fix(cx: &Cx<'_>, want: &Spec, have: &Observed, fix: &Fix) -> Result<(), AwsError> {
                let other = || AwsError::new("update", &have.key, "observed as another kind");
                match fix {
                    $(Fix::$kind(f) => {
                        let (Spec::$kind(w), State::$kind(s)) = (want, &have.state) else {
                            return Err(other());
                        };
                        <$module::$kind as Resource>::fix(cx, w, have, s, f).await
                    })*
                }
            }

            pub async fn delete(cx: &Cx<'_>, have: &Observed) -> Result<(), AwsError> {
                match &have.state {
                    $(State::$kind(s) => <$module::$kind as Resource>::delete(cx, have, s).await),*
                }
            }
        }
    };
}

//! Counts every AWS API call by service and operation (an SDK interceptor), so `up` can
//! report what it did and tests can prove a converged `up` mutates nothing.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

#[derive(Clone, Debug, Default)]
pub struct Calls(Arc<Mutex<BTreeMap<String, usize>>>);

impl Calls {
    pub fn snapshot(&self) -> BTreeMap<String, usize> {
        self.0.lock().expect("calls lock").clone()
    }
    pub fn reads(&self) -> usize {
        self.snapshot()
            .iter()
            .filter(|(op, _)| !is_mutating(op))
            .map(|(_, n)| n)
            .sum()
    }
    pub fn writes(&self) -> usize {
        self.snapshot()
            .iter()
            .filter(|(op, _)| is_mutating(op))
            .map(|(_, n)| n)
            .sum()
    }
    pub fn summary(&self) -> String {
        let (r, w) = (self.reads(), self.writes());
        format!("{} AWS calls ({r} reads, {w} writes)", r + w)
    }
}

/// Operation names tell reads from writes across AWS (`Service:Operation`).
pub fn is_mutating(op: &str) -> bool {
    let name = op.rsplit(':').next().unwrap_or(op);
    !["Describe", "Get", "List", "BatchGet", "Head"]
        .iter()
        .any(|p| name.starts_with(p))
}

impl Intercept for Calls {
    fn name(&self) -> &'static str {
        "stackctl-call-counter"
    }

    // Once per operation (not per retry), after the operation's config holds its name.
    fn read_before_serialization(
        &self,
        _: &BeforeSerializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(m) = cfg.load::<Metadata>() {
            *self
                .0
                .lock()
                .expect("calls lock")
                .entry(format!("{}:{}", m.service(), m.name()))
                .or_default() += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_and_writes() {
        assert!(!super::is_mutating("EC2:DescribeVpcs"));
        assert!(!super::is_mutating("IAM:ListRoles"));
        assert!(!super::is_mutating("ECR:GetLifecyclePolicy"));
        assert!(super::is_mutating("EC2:CreateVpc"));
        assert!(super::is_mutating("SSM:PutParameter"));
        assert!(super::is_mutating("EC2:AuthorizeSecurityGroupIngress"));
    }
}

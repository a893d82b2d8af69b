//! An emulated service's history as ECS keeps it (moto has none of it): a service deployment
//! for each deployment started, and the service revision it deploys, answered for
//! ListServiceDeployments, DescribeServiceDeployments and DescribeServiceRevisions (ECS API
//! Reference). A deployment is IN_PROGRESS, then SUCCESSFUL when it completes; one the circuit
//! breaker rolls back is ROLLBACK_SUCCESSFUL, with the revision it went back to (ECS makes no
//! new revision for a rollback: "Amazon ECS service revisions", ECS Developer Guide); one
//! that fails without rollback, or that a newer deployment replaces before it completes, is
//! STOPPED.

use crate::ecs::{EcsService, epoch};
use serde_json::Value;
use std::time::Instant;

/// One service deployment.
#[derive(Debug, Clone)]
pub struct Record {
    /// The deployment's id in DescribeServices (`ecs-svc/…`).
    pub deployment: String,
    pub arn: String,
    /// The service revision it deploys.
    pub revision: String,
    /// The revisions running when it started.
    pub sources: Vec<String>,
    pub created: f64,
    pub finished: Option<f64>,
    pub status: &'static str,
    pub reason: String,
    /// (reason, started at, the revision it went back to).
    pub rollback: Option<(String, f64, String)>,
    /// `lifecycleStage` of a blue/green-family deployment in progress (`ecs_shift::stage`).
    pub stage: Option<&'static str>,
}

/// One service revision: what a deployment runs.
#[derive(Debug, Clone)]
pub struct Revision {
    pub arn: String,
    pub task_def: String,
    pub created: f64,
    pub load_balancers: Vec<Value>,
    pub network: Value,
}

#[derive(Debug, Clone, Default)]
pub struct History {
    /// Newest first.
    pub deployments: Vec<Record>,
    pub revisions: Vec<Revision>,
}

/// `arn:…:service/cluster/name` → `arn:…:<kind>/cluster/name/<id>`.
pub fn child_arn(service_arn: &str, kind: &str, id: &str) -> String {
    format!(
        "{}/{id}",
        service_arn.replacen(":service/", &format!(":{kind}/"), 1)
    )
}

impl History {
    /// A deployment of a new revision of `svc` started at `at` (its id is `deployment`).
    pub fn started(svc: &mut EcsService, deployment: &str, revision_id: String, at: f64) {
        let revision = child_arn(&svc.arn, "service-revision", &revision_id);
        let sources = svc
            .deployments
            .iter()
            .filter(|d| d.failed.is_none() && d.id != deployment)
            .filter_map(|d| svc.history.record(&d.id).map(|r| r.revision.clone()))
            .collect();
        let task_def = svc
            .deployments
            .iter()
            .find(|d| d.id == deployment)
            .map(|d| d.task_def.clone())
            .unwrap_or_default();
        let h = &mut svc.history;
        for r in h
            .deployments
            .iter_mut()
            .filter(|r| r.status == "IN_PROGRESS")
        {
            (r.status, r.finished) = ("STOPPED", Some(at));
            r.reason = "Service deployment stopped: a newer deployment started.".into();
        }
        h.revisions.insert(
            0,
            Revision {
                arn: revision.clone(),
                task_def,
                created: at,
                load_balancers: svc.load_balancers.clone(),
                network: svc.template["networkConfiguration"].clone(),
            },
        );
        let id = deployment.rsplit('/').next().unwrap_or(deployment);
        h.deployments.insert(
            0,
            Record {
                deployment: deployment.to_string(),
                arn: child_arn(&svc.arn, "service-deployment", id),
                revision,
                sources,
                created: at,
                finished: None,
                status: "IN_PROGRESS",
                reason: String::new(),
                rollback: None,
                stage: None,
            },
        );
    }

    pub fn record(&self, deployment: &str) -> Option<&Record> {
        self.deployments.iter().find(|r| r.deployment == deployment)
    }

    pub fn completed(&mut self, deployment: &str, at: f64) {
        if let Some(r) = self.open(deployment) {
            (r.status, r.finished, r.stage) = ("SUCCESSFUL", Some(at), None);
            r.reason = "Service deployment completed successfully.".into();
        }
    }

    /// Failed; `back_to` is the deployment the circuit breaker rolled back to, if it did.
    pub fn failed(&mut self, deployment: &str, at: f64, back_to: Option<&str>) {
        let back = back_to
            .and_then(|b| self.record(b))
            .map(|r| r.revision.clone());
        let Some(r) = self.open(deployment) else {
            return;
        };
        (r.finished, r.stage) = (Some(at), None);
        match back {
            Some(revision) => {
                r.status = "ROLLBACK_SUCCESSFUL";
                r.reason = "Service deployment rolled back because the circuit breaker threshold was exceeded.".into();
                r.rollback = Some(("circuit breaker".into(), at, revision));
            }
            None => {
                r.status = "STOPPED";
                r.reason = "Service deployment failed: tasks failed to start.".into();
            }
        }
    }

    /// Stopped by StopServiceDeployment(ROLLBACK), going back to `back_to`'s revision;
    /// `done`: the old revision serves already. False: not a deployment that can be stopped.
    pub fn stopped(&mut self, deployment: &str, at: f64, back_to: &str, done: bool) -> bool {
        let back = self.record(back_to).map(|r| r.revision.clone());
        let Some(r) = self.open(deployment) else {
            return false;
        };
        r.stage = None;
        r.rollback = Some(("StopServiceDeployment".into(), at, back.unwrap_or_default()));
        r.reason = "Service deployment rolled back by a stop request.".into();
        if done {
            (r.status, r.finished) = ("ROLLBACK_SUCCESSFUL", Some(at));
        } else {
            r.status = "ROLLBACK_IN_PROGRESS";
        }
        true
    }

    /// A rollback in progress finished: the revision it went back to serves again.
    pub fn rolled_back(&mut self, at: f64) {
        for r in self
            .deployments
            .iter_mut()
            .filter(|r| r.status == "ROLLBACK_IN_PROGRESS")
        {
            (r.status, r.finished) = ("ROLLBACK_SUCCESSFUL", Some(at));
        }
    }

    fn open(&mut self, deployment: &str) -> Option<&mut Record> {
        self.deployments
            .iter_mut()
            .find(|r| r.deployment == deployment && r.finished.is_none())
    }
}

/// The first record of an adopted service (one the emulation did not see created).
pub fn adopted(svc: &mut EcsService, now: Instant, revision_id: String) {
    let id = svc.latest.clone();
    let created = svc
        .deployments
        .first()
        .map_or_else(|| epoch(now, now), |d| d.created_epoch);
    History::started(svc, &id, revision_id, created);
    svc.history.completed(&id, created);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::Dice;
    use crate::ecs_learn::adopt;
    use serde_json::json;
    use std::time::Duration;

    const R: Duration = Duration::from_secs(2);

    #[test]
    fn each_deployment_is_recorded_and_ends_as_ecs_ends_it() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let moto = json!({"serviceName": "web", "desiredCount": 2, "status": "ACTIVE",
            "serviceArn": "arn:aws:ecs:us-east-1:1:service/c/web",
            "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": true, "rollback": true}},
            "deployments": [{"id": "ecs-svc/1", "taskDefinition": "td:1"}]});
        let mut dice = Dice::for_call(3, "ecs:CreateService", 1).1;
        let mut s = adopt(&moto, t0, R, &mut dice);
        s.deploy("td:2".into(), at(0), R / 2, &mut dice);
        s.deploy("td:3".into(), at(100), R / 2, &mut dice);
        s.advance(at(2200), R, None, &mut dice);
        s.deploy("td:4".into(), at(3000), R / 2, &mut dice);
        s.advance(at(3500), R, Some(2), &mut dice);
        let h = &s.history;
        let seen: Vec<(&str, &str)> = h
            .deployments
            .iter()
            .map(|r| {
                let td = h.revisions.iter().find(|v| v.arn == r.revision).unwrap();
                (r.status, td.task_def.as_str())
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("ROLLBACK_SUCCESSFUL", "td:4"),
                ("SUCCESSFUL", "td:3"),
                ("STOPPED", "td:2"),
                ("SUCCESSFUL", "td:1"),
            ]
        );
        let rolled = &h.deployments[0];
        let back = rolled.rollback.as_ref().unwrap();
        assert_eq!(
            back.2, h.deployments[1].revision,
            "back to td:3's revision, no new one"
        );
        assert_eq!(rolled.sources, [h.deployments[1].revision.clone()]);
        assert!(rolled.arn.contains(":service-deployment/c/web/"));
    }
}

//! ECS data plane emulation: what moto's ECS lacks for a client that is correct on real AWS
//! to finish. CreateService/UpdateService start deployments that roll out over
//! `ecs_rollout` (tasks start in the first half, are healthy in the second, then COMPLETED and
//! the previous deployment is gone); DeleteService drains; a duplicate create is refused. The
//! state and its transitions are here, the requests in `ecs_learn`, the replies in `ecs_view`. Failing deployments come
//! from `deploy` (`World::failing`) and win, with a circuit breaker rollback if asked for.

use crate::decide::Dice;
use crate::ecs_history::History;
use serde_json::{Value, json};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// (region, cluster name, service name): service names are unique per cluster.
pub type Key = (String, String, String);

pub struct EcsService {
    pub name: String,
    pub arn: String,
    pub desired: i64,
    pub deployment_config: Value,
    pub grace: Option<Value>,
    pub load_balancers: Vec<Value>,
    pub client_token: Option<String>,
    /// moto's deployment entry (launchType, platformFamily, networkConfiguration...), the
    /// base of every deployment shown.
    pub template: Value,
    /// Newest first. One is `primary`, the others ACTIVE.
    pub deployments: Vec<Deployment>,
    /// The deployment the last CreateService/UpdateService started.
    pub latest: String,
    pub deleted: Option<Instant>,
    /// Service events, newest first.
    pub events: Vec<Value>,
    /// StopTask calls on its tasks (`ecs_tasks`).
    pub stops: Vec<crate::ecs_tasks::Stop>,
    /// Its service deployments and revisions (`ecs_history`).
    pub history: History,
    /// How long a minute of the strategies' bake times lasts (`FaultConfig::ecs_minute`).
    pub minute: Duration,
}

pub struct Deployment {
    pub id: String,
    pub task_def: String,
    pub primary: bool,
    pub created: Instant,
    pub created_epoch: f64,
    /// Running tasks go from `from` (at `since`) to `to` over half a rollout.
    pub from: i64,
    pub to: i64,
    pub since: Instant,
    /// Tasks already healthy at `since` (scaling keeps them healthy).
    pub healthy_base: i64,
    pub done: Option<Instant>,
    /// When it failed, and how many tasks failed.
    pub failed: Option<(Instant, usize)>,
    /// The target group its tasks register in, when a blue/green-family strategy chose it
    /// (they alternate between the two); None: the service's `targetGroupArn`.
    pub group: Option<String>,
    /// Its traffic shift, under a blue/green-family strategy (`ecs_shift`).
    pub shift: Option<crate::ecs_shift::Shift>,
}

impl Deployment {
    pub fn running(&self, now: Instant, half: Duration) -> i64 {
        if self.failed.is_some() {
            return 0;
        }
        self.from + ((self.to - self.from) as f64 * progress(now, self.since, half)) as i64
    }
    pub fn rollout_state(&self) -> &'static str {
        match (self.failed, self.done) {
            (Some(_), _) => "FAILED",
            (None, Some(_)) => "COMPLETED",
            _ => "IN_PROGRESS",
        }
    }
    /// Whether its tasks are being drained (an ACTIVE deployment being replaced).
    pub fn draining(&self, now: Instant) -> bool {
        !self.primary && self.to < self.from && now >= self.since
    }
}

/// How far (0..=1) a move that started at `since` and lasts `span` is at `now`.
pub fn progress(now: Instant, since: Instant, span: Duration) -> f64 {
    if now <= since {
        0.0
    } else if span.is_zero() {
        1.0
    } else {
        ((now - since).as_secs_f64() / span.as_secs_f64()).min(1.0)
    }
}

impl EcsService {
    pub fn status(&self, now: Instant, rollout: Duration) -> &'static str {
        match self.deleted {
            None => "ACTIVE",
            Some(t) if now < t + rollout => "DRAINING",
            Some(_) => "INACTIVE",
        }
    }
    pub fn primary(&self) -> Option<&Deployment> {
        self.deployments.iter().find(|d| d.primary)
    }
    /// The PRIMARY deployment first, then the others, newest first (as ECS lists them).
    pub fn ordered(&self) -> impl Iterator<Item = &Deployment> {
        let others = self.deployments.iter().filter(|d| !d.primary);
        self.primary().into_iter().chain(others)
    }
    pub fn event(&mut self, dice: &mut Dice, epoch: f64, message: String) {
        let event = json!({"id": dice.request_id(), "createdAt": epoch, "message": message});
        self.events.insert(0, event);
        self.events.truncate(100);
    }

    /// Starts a deployment of `task_def` at `desired`: the previous ones become ACTIVE and
    /// drain once the new tasks are healthy.
    pub fn deploy(&mut self, task_def: String, now: Instant, half: Duration, dice: &mut Dice) {
        let shifted = crate::ecs_shift::begin(self, now, 2 * half);
        if shifted.is_none() {
            for d in self.deployments.iter_mut().filter(|d| d.failed.is_none()) {
                d.from = d.running(now, half);
                d.to = 0;
                d.since = now + half;
            }
        }
        let (group, shift) = shifted.unzip();
        for d in &mut self.deployments {
            d.primary = false;
        }
        let id = format!("ecs-svc/{}", dice.digits(19));
        self.latest = id.clone();
        self.deployments.insert(
            0,
            Deployment {
                id: id.clone(),
                task_def,
                primary: true,
                created: now,
                created_epoch: epoch(now, now),
                from: 0,
                to: self.desired,
                since: now,
                healthy_base: 0,
                done: None,
                failed: None,
                group,
                shift,
            },
        );
        History::started(self, &id, dice.digits(19), epoch(now, now));
    }

    /// Lazily moves the emulation to `now`: failure (from `deploy`), rollback, completion.
    pub fn advance(
        &mut self,
        now: Instant,
        rollout: Duration,
        failing: Option<usize>,
        dice: &mut Dice,
    ) {
        let half = rollout / 2;
        if self.deleted.is_some() {
            return;
        }
        let name = self.name.clone();
        let latest = self.deployments.iter().position(|d| d.id == self.latest);
        if let (Some(failed_tasks), Some(i)) = (failing, latest)
            && self.deployments[i].failed.is_none()
            && self.deployments[i].done.is_none()
        {
            self.fail(i, failed_tasks, now, half, dice);
        }
        if let Some(p) = self.deployments.iter_mut().find(|d| d.primary)
            && p.failed.is_none()
            && p.done.is_none()
            && now >= p.created + rollout
            && now >= p.since + half
            && let Some(at) = crate::ecs_shift::finished(p, half)
            && now >= at
        {
            let at = at.max(p.created + rollout).max(p.since + half);
            p.done = Some(at);
            let id = p.id.clone();
            self.deployments.retain(|d| d.primary);
            let e = epoch(at, now);
            self.history.completed(&id, e);
            self.history.rolled_back(e);
            self.event(
                dice,
                e,
                format!("(service {name}) (deployment {id}) deployment completed."),
            );
            self.event(
                dice,
                e,
                format!("(service {name}) has reached a steady state."),
            );
        }
        // A replaced deployment is gone once its tasks drained (one rolled back by a stop
        // request, with no later deployment to complete, too).
        self.deployments.retain(|d| {
            d.primary
                || d.failed.map_or(d.to > 0 || now < d.since + half, |(t, _)| {
                    now < t + 2 * rollout
                })
        });
        for d in &self.deployments {
            if let Some(r) = self
                .history
                .deployments
                .iter_mut()
                .find(|r| r.deployment == d.id)
                && r.finished.is_none()
            {
                r.stage = crate::ecs_shift::stage(d, now);
            }
        }
    }

    /// Deployment `i` failed: the others keep their tasks, and with the circuit breaker's
    /// rollback the newest of them is PRIMARY (COMPLETED) again.
    fn fail(&mut self, i: usize, tasks: usize, now: Instant, half: Duration, dice: &mut Dice) {
        let name = self.name.clone();
        let id = self.deployments[i].id.clone();
        let started = self.deployments[i].created;
        self.deployments[i].failed = Some((now, tasks));
        // Its tasks never got healthy, so the others' never drained.
        for d in self.deployments.iter_mut().filter(|d| d.failed.is_none()) {
            d.from = d.running(started, half);
            d.to = d.from;
            d.since = now;
        }
        let e = epoch(now, now);
        self.event(
            dice,
            e,
            format!("(service {name}) (deployment {id}) deployment failed: tasks failed to start."),
        );
        let breaker = &self.deployment_config["deploymentCircuitBreaker"];
        let rollback = breaker["enable"] == Value::Bool(true) && breaker["rollback"] == true;
        let previous = self.deployments.iter().position(|d| d.failed.is_none());
        let back_to = previous
            .filter(|_| rollback && self.deployments[i].primary)
            .map(|p| self.deployments[p].id.clone());
        self.history.failed(&id, e, back_to.as_deref());
        if !rollback || !self.deployments[i].primary {
            return;
        }
        let Some(p) = previous else { return };
        let desired = self.desired;
        (self.deployments[i].primary, self.deployments[i].to) = (false, 0);
        let back = &mut self.deployments[p];
        (back.primary, back.from, back.to, back.since) = (true, desired, desired, now);
        (back.healthy_base, back.done) = (desired, Some(now));
        let (back_id, back_td) = (back.id.clone(), back.task_def.clone());
        self.deployments.retain(|d| d.primary || d.failed.is_some());
        self.event(
            dice,
            e,
            format!("(service {name}) rolling back to {back_td} (deployment {back_id})."),
        );
    }

    /// desiredCount changed: the primary scales, no new deployment.
    pub fn scale(&mut self, desired: i64, now: Instant, half: Duration) {
        self.desired = desired;
        if let Some(p) = self
            .deployments
            .iter_mut()
            .find(|d| d.primary && d.failed.is_none())
        {
            let running = p.running(now, half);
            let healthy = if now >= p.since + half {
                running
            } else {
                p.healthy_base
            };
            (p.from, p.to, p.since, p.healthy_base) = (running, desired, now, healthy.min(desired));
        }
    }
}

/// Wall-clock seconds of `at`, given that `now` is now.
pub fn epoch(at: Instant, now: Instant) -> f64 {
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let back = now.saturating_duration_since(at).as_secs_f64();
    let ahead = at.saturating_duration_since(now).as_secs_f64();
    ((wall - back + ahead) * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecs_learn::adopt;

    const R: Duration = Duration::from_secs(2);

    fn service(seed: u64, now: Instant) -> EcsService {
        let moto = json!({"serviceName": "web", "desiredCount": 2, "status": "ACTIVE",
            "deployments": [{"id": "ecs-svc/1", "taskDefinition": "td:1"}]});
        let mut dice = Dice::for_call(seed, "ecs:CreateService", 1).1;
        let mut s = adopt(&moto, now, R, &mut dice);
        s.deployments.clear();
        s.deploy("td:1".into(), now, R / 2, &mut dice);
        s
    }

    /// (status, rolloutState, task definition, running) of each deployment, PRIMARY first.
    fn view(s: &EcsService, now: Instant) -> Vec<(bool, &'static str, String, i64)> {
        s.ordered()
            .map(|d| {
                (
                    d.primary,
                    d.rollout_state(),
                    d.task_def.clone(),
                    d.running(now, R / 2),
                )
            })
            .collect()
    }

    #[test]
    fn a_deployment_rolls_out_and_replaces_the_previous_one() {
        let t0 = Instant::now();
        let mut dice = Dice::for_call(1, "ecs:DescribeServices", 1).1;
        let mut s = service(1, t0);
        let at = |ms| t0 + Duration::from_millis(ms);
        assert_eq!(view(&s, at(500)), [(true, "IN_PROGRESS", "td:1".into(), 1)]);
        s.advance(at(2100), R, None, &mut dice);
        assert_eq!(view(&s, at(2100)), [(true, "COMPLETED", "td:1".into(), 2)]);
        s.deploy("td:2".into(), at(3000), R / 2, &mut dice);
        s.advance(at(3500), R, None, &mut dice);
        let both = view(&s, at(3500));
        assert_eq!(both[0], (true, "IN_PROGRESS", "td:2".into(), 1));
        assert_eq!(both[1], (false, "COMPLETED", "td:1".into(), 2));
        assert_eq!(
            s.deployments[1].running(at(4500), R / 2),
            1,
            "drains in the second half"
        );
        s.advance(at(5000), R, None, &mut dice);
        assert_eq!(view(&s, at(5000)), [(true, "COMPLETED", "td:2".into(), 2)]);
    }

    #[test]
    fn a_failure_rolls_back_only_with_the_circuit_breaker() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        for rollback in [true, false] {
            let mut dice = Dice::for_call(2, "ecs:DescribeServices", 1).1;
            let mut s = service(2, t0);
            s.deployment_config["deploymentCircuitBreaker"] =
                json!({"enable": true, "rollback": rollback});
            s.advance(at(2000), R, None, &mut dice);
            s.deploy("td:2".into(), at(2000), R / 2, &mut dice);
            // The failure is seen late: the old tasks never drained all the same.
            s.advance(at(5000), R, Some(2), &mut dice);
            let v = view(&s, at(5000));
            if rollback {
                assert_eq!(
                    v,
                    [
                        (true, "COMPLETED", "td:1".into(), 2),
                        (false, "FAILED", "td:2".into(), 0)
                    ]
                );
                assert!(
                    s.events[0]["message"]
                        .as_str()
                        .unwrap()
                        .contains("rolling back to td:1")
                );
                s.advance(at(9100), R, Some(2), &mut dice);
                assert_eq!(view(&s, at(9100)).len(), 1, "the failed deployment is gone");
            } else {
                assert_eq!(
                    v,
                    [
                        (true, "FAILED", "td:2".into(), 0),
                        (false, "COMPLETED", "td:1".into(), 2)
                    ]
                );
            }
        }
    }

    #[test]
    fn deployment_ids_follow_the_seed() {
        let now = Instant::now();
        let id = |seed| service(seed, now).latest;
        assert_eq!(id(5), id(5));
        assert_ne!(id(5), id(6));
        assert!(id(5)["ecs-svc/".len()..].len() == 19);
    }
}

//! What ECS refuses of a strategy, and the stages and weights of one.

use super::*;
use serde_json::json;

const M: Duration = Duration::from_secs(1);

fn weights(s: &Strategy, at: &[u64]) -> Vec<f64> {
    at.iter()
        .map(|t| s.weight(Duration::from_millis(*t), M).0)
        .collect()
}

#[test]
fn each_strategy_shifts_as_ecs_documents() {
    let bg = Strategy::of(&json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5}));
    assert_eq!((weights(&bg, &[0]), bg.bake), (vec![100.0], 5));
    let canary = Strategy::of(&json!({"strategy": "CANARY",
        "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 2}}));
    assert_eq!(weights(&canary, &[0, 1999, 2000]), [10.0, 10.0, 100.0]);
    assert_eq!(canary.shift_span(M), Duration::from_secs(2));
    let linear = Strategy::of(&json!({"strategy": "LINEAR",
        "linearConfiguration": {"stepPercent": 30.0, "stepBakeTimeInMinutes": 1}}));
    assert_eq!(
        weights(&linear, &[0, 999, 1000, 2000, 3000, 9000]),
        [30.0, 30.0, 60.0, 90.0, 100.0, 100.0]
    );
    assert_eq!(linear.shift_span(M), Duration::from_secs(3));
    let defaults = Strategy::of(&json!({"strategy": "CANARY"}));
    assert_eq!(
        defaults.shape,
        Shape::Canary {
            percent: 5.0,
            wait: 10
        }
    );
    assert_eq!(Strategy::of(&json!({})).shape, Shape::Rolling);
}

#[test]
fn a_timeline_goes_through_the_stages() {
    let t0 = Instant::now();
    let s = Strategy::of(&json!({"strategy": "CANARY", "bakeTimeInMinutes": 3,
        "canaryConfiguration": {"canaryPercent": 20.0, "canaryBakeTimeInMinutes": 2}}));
    let t = Timeline::new(&s, t0, Duration::from_secs(4), M);
    let at = |s: u64| t0 + Duration::from_secs(s);
    let seen: Vec<_> = [0, 4, 5, 6, 8, 9]
        .iter()
        .map(|x| (t.stage(at(*x)), t.weight(&s, at(*x), M)))
        .collect();
    assert_eq!(
        seen,
        [
            ("SCALE_UP", 0.0),
            ("PRODUCTION_TRAFFIC_SHIFT", 20.0),
            ("PRODUCTION_TRAFFIC_SHIFT", 20.0),
            ("BAKE_TIME", 100.0),
            ("BAKE_TIME", 100.0),
            ("CLEAN_UP", 100.0),
        ]
    );
}

#[test]
fn what_ecs_refuses() {
    let lb = |alt: &str| {
        json!({"targetGroupArn": "tg-a", "advancedConfiguration": {
        "alternateTargetGroupArn": alt, "productionListenerRule": "rule",
        "roleArn": "arn:aws:iam::1:role/infra"}})
    };
    let ok = json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0});
    assert_eq!(refuse(&ok, &[lb("tg-b")]), None);
    assert_eq!(
        refuse(&json!({}), &[json!({"targetGroupArn": "tg-a"})]),
        None
    );
    let refused = [
        (json!({"strategy": "BLUE_GREEN"}), lb("tg-b"), "required"),
        (ok.clone(), lb("tg-a"), "must differ"),
        (
            ok.clone(),
            json!({"targetGroupArn": "tg-a"}),
            "advancedConfiguration",
        ),
        (
            ok.clone(),
            json!({"targetGroupArn": "tg-a", "advancedConfiguration": {
                "alternateTargetGroupArn": "tg-b", "productionListenerRule": "rule",
                "roleArn": "demo-default-ecs-infra"}}),
            "not a valid IAM role ARN",
        ),
        (
            json!({"strategy": "PURPLE"}),
            lb("tg-b"),
            "Invalid deployment strategy",
        ),
        (
            json!({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 0.05}}),
            lb("tg-b"),
            "canaryPercent",
        ),
        (
            json!({"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 10.25}}),
            lb("tg-b"),
            "canaryPercent",
        ),
        (
            json!({"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 2.0}}),
            lb("tg-b"),
            "stepPercent",
        ),
        (
            json!({"strategy": "LINEAR", "bakeTimeInMinutes": 1441}),
            lb("tg-b"),
            "bakeTimeInMinutes",
        ),
        (
            json!({"strategy": "ROLLING", "canaryConfiguration": {}}),
            lb("tg-b"),
            "only valid",
        ),
        (
            json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1,
            "deploymentCircuitBreaker": {"enable": true, "rollback": true}}),
            lb("tg-b"),
            "circuit breaker",
        ),
    ];
    for (config, lb, why) in refused {
        let got = refuse(&config, &[lb]).unwrap_or_default();
        assert!(got.contains(why), "{config}: {got}");
    }
}

//! The planner's ordering: what `down` must delete before what.

use super::test_support::{converged, facts, stack};
use super::*;
use crate::aws;

#[test]
fn down_deletes_in_an_order_aws_accepts() {
    let want = desired::desired(&stack(), &facts());
    let have = converged(&want);
    let plan = plan(&[], &have);
    // Everything but what the account shares (its ECS service-linked role).
    let owned: Vec<&Key> = have
        .iter()
        .filter(|o| !o.state.shared())
        .map(|o| &o.key)
        .collect();
    assert_eq!(owned.len(), have.len() - 1);
    assert_eq!(
        plan.changes.iter().map(|c| &c.key).collect::<Vec<_>>(),
        owned
    );
    let deps = order(&plan, &[]);
    let pos = |k: &Key| plan.changes.iter().position(|c| &c.key == k).unwrap();
    let waits_for = |a: Key, b: Key| deps[pos(&a)].contains(&pos(&b));
    assert!(waits_for(desired::vpc(), desired::subnet(0)));
    assert!(waits_for(desired::vpc(), desired::igw()));
    assert!(waits_for(desired::vpc(), desired::alb_sg()));
    assert!(
        waits_for(desired::subnet(0), desired::route_table()),
        "route tables are disassociated before subnets go"
    );
    assert!(
        waits_for(desired::alb_sg(), desired::service_sg("api")),
        "the group others reference goes last"
    );
    assert!(!waits_for(desired::service_sg("api"), desired::alb_sg()));
    assert_eq!(
        deps[pos(&desired::cluster())],
        [pos(&desired::service("api"))],
        "the cluster waits only for its service"
    );
    assert!(
        deps[pos(&desired::service("api"))].is_empty(),
        "the service goes first"
    );
    for k in [
        desired::subnet(0),
        desired::service_sg("api"),
        desired::target_group("api"),
    ] {
        assert!(waits_for(k, desired::service("api")), "its tasks hold them");
    }
    assert!(
        waits_for(desired::subnet(0), desired::load_balancer()),
        "the load balancer's interfaces leave the subnets first"
    );
    assert!(waits_for(desired::alb_sg(), desired::load_balancer()));
    assert!(waits_for(desired::target_group("api"), desired::listener()));
    assert!(
        waits_for(desired::subnet(0), desired::load_balancer()),
        "the load balancer's interfaces leave the subnets first"
    );
    assert!(waits_for(desired::alb_sg(), desired::load_balancer()));
    assert!(waits_for(desired::target_group("api"), desired::listener()));
}

#[test]
fn the_load_balancer_is_created_after_the_internet_gateway_is_attached() {
    let want = desired::desired(&stack(), &facts());
    // From nothing: the gateway's create (which attaches it) comes first.
    let fresh = plan(&want, &[]);
    let deps = order(&fresh, &want);
    let pos = |k: &Key| fresh.changes.iter().position(|c| &c.key == k).unwrap();
    assert!(deps[pos(&desired::load_balancer())].contains(&pos(&desired::igw())));
    // A gateway left detached (an interrupted run): its attach is a fix the load balancer
    // waits for.
    let mut have = converged(&want);
    have.retain(|o| o.key != desired::load_balancer() && o.key != desired::listener());
    for o in &mut have {
        if let State::InternetGateway(aws::igw::State { attached_vpc }) = &mut o.state {
            *attached_vpc = None;
        }
    }
    let resumed = plan(&want, &have);
    let deps = order(&resumed, &want);
    let pos = |k: &Key| resumed.changes.iter().position(|c| &c.key == k).unwrap();
    assert!(matches!(
        resumed.changes[pos(&desired::igw())].action,
        Action::Update { .. }
    ));
    assert!(deps[pos(&desired::load_balancer())].contains(&pos(&desired::igw())));
}

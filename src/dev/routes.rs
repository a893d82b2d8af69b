//! Which service a request goes to, decided as the load balancer's listener rules decide it:
//! the rules in the order `up` numbers them (`plan::desired::rule_order`), then the default
//! (`public: true`) service, else no one (the listener's fixed 404).
//!
//! Path patterns match the path without the query string and are case-sensitive; host
//! patterns are not (ELB User Guide, "Listener rules for your Application Load Balancer",
//! condition types). `*` matches any run of characters, `?` exactly one.

use crate::config::Stack;
use crate::config::routes::wildcard;
use crate::plan::desired::entry::rule_order;

#[derive(Debug, Clone)]
pub struct Routes {
    rules: Vec<Rule>,
    default: Option<String>,
}

#[derive(Debug, Clone)]
struct Rule {
    service: String,
    paths: Vec<String>,
    host: Option<String>,
}

impl Routes {
    pub fn new(stack: &Stack) -> Routes {
        let rules = rule_order(stack)
            .into_iter()
            .map(|(name, route)| Rule {
                service: name.to_string(),
                paths: route.paths.clone(),
                host: route.host.as_ref().map(|h| h.to_ascii_lowercase()),
            })
            .collect();
        let default = stack
            .services
            .values()
            .find(|s| s.public && s.route.is_none())
            .map(|s| s.name.clone());
        Routes { rules, default }
    }

    /// The service for a request to `host` (the Host header, port dropped) and `path`.
    pub fn pick(&self, host: Option<&str>, path: &str) -> Option<&str> {
        let host = host
            .map(|h| h.rsplit_once(':').map_or(h, |(name, _)| name))
            .map(str::to_ascii_lowercase);
        let path = path.split('?').next().unwrap_or(path);
        self.rules
            .iter()
            .find(|r| {
                let host_ok = match (&r.host, &host) {
                    (None, _) => true,
                    (Some(want), Some(got)) => wildcard(want, got),
                    (Some(_), None) => false,
                };
                host_ok && (r.paths.is_empty() || r.paths.iter().any(|p| wildcard(p, path)))
            })
            .map(|r| r.service.as_str())
            .or(self.default.as_deref())
    }

    /// Whether any request can reach a service.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.default.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::plan::test_support::stack_from as stack;

    const ROUTED: &str = r#"
name: demo
services:
  web: { build: apps/web, port: 8000, public: true }
  admin: { build: apps/kit, port: 8001, public: { paths: ["/admin", "/admin/*"] } }
  apiv2: { build: apps/api, port: 8002, public: { paths: ["/api/v2/*"] } }
  api: { build: apps/api, port: 8003, public: { paths: ["/api/*"] } }
  shop: { build: tools/faultproxy, port: 8004, public: { host: "shop.example.com" } }
  users: { build: apps/users, port: 8005 }
"#;

    #[test]
    fn requests_go_where_the_listener_rules_send_them() {
        let r = Routes::new(&stack(ROUTED));
        assert_eq!(r.pick(None, "/"), Some("web"));
        assert_eq!(r.pick(None, "/admin"), Some("admin"));
        assert_eq!(r.pick(None, "/admin/users?x=1"), Some("admin"));
        assert_eq!(r.pick(None, "/administrator"), Some("web"));
        assert_eq!(r.pick(None, "/api/v2/pay"), Some("apiv2"));
        assert_eq!(r.pick(None, "/api/v1/pay"), Some("api"));
        assert_eq!(
            r.pick(Some("Shop.Example.COM:3000"), "/admin"),
            Some("shop")
        );
        assert_eq!(r.pick(Some("localhost:3000"), "/ADMIN"), Some("web"));
    }

    #[test]
    fn without_a_default_service_unrouted_requests_reach_no_one() {
        let r = Routes::new(&stack(
            "name: demo\nservices:\n  admin: { build: apps/web, port: 8000, public: { paths: [\"/admin*\"] } }\n  users: { build: apps/users, port: 8080 }\n",
        ));
        assert_eq!(r.pick(None, "/admin/x"), Some("admin"));
        assert_eq!(r.pick(None, "/"), None);
        let none = Routes::new(&stack(
            "name: demo\nservices:\n  users: { build: apps/users, port: 8080 }\n",
        ));
        assert!(none.is_empty());
    }

    #[test]
    fn wildcards_match_as_elb_patterns_do() {
        assert!(wildcard("/a*", "/a"));
        assert!(wildcard("/a*/c", "/a/b/c"));
        assert!(wildcard("/a?c", "/abc"));
        assert!(!wildcard("/a?c", "/ac"));
        assert!(!wildcard("/a", "/ab"));
        assert!(wildcard("*.example.com", "shop.example.com"));
    }
}

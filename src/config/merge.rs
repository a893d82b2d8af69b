//! Environment overlays: `environments.<name>` deep-merged over the base file.

use marked_yaml::Node;
use marked_yaml::types::MarkedScalarNode;

use super::error::{Issues, did_you_mean};

/// The base document without `environments`, with overlay `name` merged in.
pub fn overlay(root: &Node, name: &str, issues: &mut Issues) -> Option<Node> {
    let base = root.as_mapping()?;
    let overlay = base.get_mapping("environments")?.get_node(name)?;
    let Some(overlay) = overlay.as_mapping() else {
        issues.at(
            overlay.span(),
            format!("environment `{name}` must be a mapping"),
            Some("e.g. `prod: { services: { api: { desired: 3 } } }`".into()),
        );
        return None;
    };
    let known: Vec<&str> = base
        .get_mapping("services")
        .map(|m| m.keys().map(|k| k.as_str()).collect())
        .unwrap_or_default();
    let mut ok = true;
    if let Some(services) = overlay.get_mapping("services") {
        for key in services.keys() {
            if !known.contains(&key.as_str()) {
                let hint = did_you_mean(key.as_str(), known.iter().copied()).unwrap_or_else(|| {
                    format!(
                        "overlays can only change services defined at the top: {}",
                        known.join(", ")
                    )
                });
                issues.at(
                    key.span(),
                    format!(
                        "environment `{name}` overlays unknown service `{}`",
                        key.as_str()
                    ),
                    Some(hint),
                );
                ok = false;
            }
        }
    }
    if !ok {
        return None;
    }
    let mut merged = root.clone();
    let map = merged.as_mapping_mut()?;
    map.remove(&MarkedScalarNode::from("environments"));
    merge_into(&mut merged, &Node::Mapping(overlay.clone()));
    Some(merged)
}

fn merge_into(base: &mut Node, over: &Node) {
    match (base.as_mapping_mut(), over.as_mapping()) {
        (Some(b), Some(o)) => {
            for (k, v) in o.iter() {
                match b.get_mut(k) {
                    Some(existing)
                        if existing.as_mapping().is_some() && v.as_mapping().is_some() =>
                    {
                        merge_into(existing, v)
                    }
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        _ => *base = over.clone(),
    }
}

//! `stackctl policy`'s output: a policy document laid out as people write them.

use serde_json::Value;

/// The document as people write policies: `Version` first, each statement's `Sid`, `Effect`,
/// `Action`, `Resource`, `Condition` in that order, one action or ARN a line.
pub fn render(doc: &Value) -> String {
    let s = |v: &Value| serde_json::to_string(v).expect("JSON values serialize");
    let list = |v: &Value, indent: &str| match v {
        Value::Array(items) => format!(
            "[\n{}\n{indent}]",
            items
                .iter()
                .map(|i| format!("{indent}  {}", s(i)))
                .collect::<Vec<_>>()
                .join(",\n")
        ),
        other => s(other),
    };
    let statements: Vec<String> = doc["Statement"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|st| {
            let mut fields = vec![
                format!("      \"Sid\": {}", s(&st["Sid"])),
                format!("      \"Effect\": {}", s(&st["Effect"])),
                format!("      \"Action\": {}", list(&st["Action"], "      ")),
                format!("      \"Resource\": {}", list(&st["Resource"], "      ")),
            ];
            if let Some(c) = st.get("Condition") {
                fields.push(format!("      \"Condition\": {}", s(c)));
            }
            format!("    {{\n{}\n    }}", fields.join(",\n"))
        })
        .collect();
    format!(
        "{{\n  \"Version\": {},\n  \"Statement\": [\n{}\n  ]\n}}\n",
        s(&doc["Version"]),
        statements.join(",\n")
    )
}

//! Just enough XML for AWS query responses: the text leaves with their element path and byte
//! span, so values can be read and replaced in place without reformatting the document.

use std::ops::Range;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leaf {
    /// Element names from the root down to the element holding the text.
    pub path: Vec<String>,
    /// Byte offset of each of those elements' start tag: identifies the element instance.
    pub owners: Vec<usize>,
    /// Unescaped text.
    pub text: String,
    /// Where the (escaped) text is in the document.
    pub span: Range<usize>,
}

impl Leaf {
    /// Whether the path ends with `suffix` (`a/b/c`), on element boundaries.
    pub fn ends_with(&self, suffix: &str) -> bool {
        let want: Vec<&str> = suffix.split('/').collect();
        self.path.len() >= want.len()
            && self.path[self.path.len() - want.len()..]
                .iter()
                .zip(&want)
                .all(|(a, b)| a == b)
    }
    /// Start offset of the ancestor `up` levels above the text's element (0 = itself).
    pub fn owner(&self, up: usize) -> Option<usize> {
        self.owners
            .len()
            .checked_sub(up + 1)
            .map(|i| self.owners[i])
    }
}

/// The non-blank text leaves of `xml`, in document order. Malformed input yields what was
/// read before the problem.
pub fn leaves(xml: &str) -> Vec<Leaf> {
    let b = xml.as_bytes();
    let (mut out, mut path, mut owners) = (Vec::new(), Vec::<String>::new(), Vec::new());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'<' {
            let end = xml[i..].find('<').map_or(b.len(), |n| i + n);
            let raw = &xml[i..end];
            if !path.is_empty() && !raw.trim().is_empty() {
                out.push(Leaf {
                    path: path.clone(),
                    owners: owners.clone(),
                    text: unescape(raw),
                    span: i..end,
                });
            }
            i = end;
            continue;
        }
        let rest = &xml[i..];
        if rest.starts_with("<?") {
            i = skip_past(xml, i, "?>");
        } else if rest.starts_with("<!--") {
            i = skip_past(xml, i, "-->");
        } else if rest.starts_with("<![CDATA[") {
            let end = rest.find("]]>").map_or(b.len(), |n| i + n);
            if !path.is_empty() {
                let text = xml[i + 9..end].to_string();
                out.push(Leaf {
                    path: path.clone(),
                    owners: owners.clone(),
                    text,
                    span: i..end + 3,
                });
            }
            i = (end + 3).min(b.len());
        } else if rest.starts_with("<!") {
            i = skip_past(xml, i, ">");
        } else if rest.starts_with("</") {
            path.pop();
            owners.pop();
            i = skip_past(xml, i, ">");
        } else {
            let end = tag_end(b, i);
            let name: String = xml[i + 1..end]
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '/' && *c != '>')
                .collect();
            if !(end >= 2 && b[end - 2] == b'/') {
                path.push(name);
                owners.push(i);
            }
            i = end;
        }
    }
    out
}

/// Index just past the `>` ending the tag at `start`, honouring quoted attribute values.
fn tag_end(b: &[u8], start: usize) -> usize {
    let mut quote = None;
    for (j, &c) in b.iter().enumerate().skip(start) {
        match (quote, c) {
            (None, b'"' | b'\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, b'>') => return j + 1,
            _ => {}
        }
    }
    b.len()
}

fn skip_past(xml: &str, from: usize, end: &str) -> usize {
    xml[from..]
        .find(end)
        .map_or(xml.len(), |n| from + n + end.len())
}

/// First leaf text whose path ends with `suffix`.
pub fn first<'a>(leaves: &'a [Leaf], suffix: &str) -> Option<&'a str> {
    leaves
        .iter()
        .find(|l| l.ends_with(suffix))
        .map(|l| l.text.as_str())
}

/// Replaces byte ranges (non-overlapping) with new text.
pub fn splice(xml: &str, mut edits: Vec<(Range<usize>, String)>) -> String {
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut s = xml.to_string();
    for (r, text) in edits {
        s.replace_range(r, &text);
    }
    s
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

pub fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        let Some(semi) = rest.find(';') else { break };
        let ent = &rest[1..semi];
        let ch = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ if ent.starts_with("#x") => u32::from_str_radix(&ent[2..], 16)
                .ok()
                .and_then(char::from_u32),
            _ if ent.starts_with('#') => ent[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeLoadBalancersResponse xmlns="http://x/">
  <DescribeLoadBalancersResult><LoadBalancers>
    <member><LoadBalancerArn>arn:a</LoadBalancerArn><Empty/><State><Code>active</Code></State></member>
    <member><LoadBalancerArn>arn:b&amp;c</LoadBalancerArn><State><Code>active</Code></State></member>
  </LoadBalancers></DescribeLoadBalancersResult>
</DescribeLoadBalancersResponse>"#;

    #[test]
    fn leaves_paths_owners_spans() {
        let l = leaves(DOC);
        let arns: Vec<_> = l
            .iter()
            .filter(|x| x.ends_with("member/LoadBalancerArn"))
            .collect();
        assert_eq!(arns.len(), 2);
        assert_eq!(arns[1].text, "arn:b&c");
        let codes: Vec<_> = l
            .iter()
            .filter(|x| x.ends_with("member/State/Code"))
            .collect();
        // Same <member> instance: the ARN's parent is the code's grandparent.
        assert_eq!(arns[0].owner(1), codes[0].owner(2));
        assert_ne!(arns[0].owner(1), codes[1].owner(2));
        let out = splice(DOC, vec![(codes[1].span.clone(), "provisioning".into())]);
        assert_eq!(out.matches("provisioning").count(), 1);
        assert!(out.contains("arn:b&amp;c</LoadBalancerArn><State><Code>provisioning"));
    }

    #[test]
    fn escape_roundtrip() {
        let s = "a<b>&'\"";
        assert_eq!(unescape(&escape(s)), s);
        assert_eq!(unescape("&#65;&#x42;&bogus;"), "AB&bogus;");
    }
}

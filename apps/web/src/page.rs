//! The HTML pages, written by hand. Everything not a literal of this file goes through
//! [`Esc`]. No JavaScript: forms post and the server redirects (Post/Redirect/Get).

use std::fmt::{self, Display, Write};

use crate::client::User;

/// The stylesheet, served at `/style.css`.
pub const STYLE: &str = include_str!("style.css");
/// Changes with the stylesheet, so pages can link it as cacheable forever.
pub const STYLE_VERSION: u64 = fnv1a(STYLE.as_bytes());

const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

/// Text made safe for HTML content and quoted attribute values.
pub struct Esc<'a>(pub &'a str);

impl Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

/// The whole document around `body` (the content of `<main>`).
fn layout(title: &str, has_alert: bool, body: &str) -> String {
    let prefix = if has_alert { "Error: " } else { "" };
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{prefix}{title} – Users</title>
<link rel="stylesheet" href="/style.css?v={STYLE_VERSION:016x}">
</head>
<body>
<main>
{body}</main>
</body>
</html>
"#,
        title = Esc(title),
    )
}

/// The alert region (`id="errors"`, which invalid inputs point to), if there is anything.
fn alerts(out: &mut String, alerts: &[String]) {
    if alerts.is_empty() {
        return;
    }
    out.push_str("<div class=\"alert\" role=\"alert\" id=\"errors\">\n");
    for a in alerts {
        let _ = writeln!(out, "<p>{}</p>", Esc(a));
    }
    out.push_str("</div>\n");
}

/// A labelled text input; `invalid` marks it and points it at the alert.
fn input(out: &mut String, id: &str, label: &str, kind: &str, value: &str, invalid: bool) {
    let extra = match (kind, invalid) {
        ("number", _) => " min=\"1\" step=\"1\"",
        _ => " autocomplete=\"off\"",
    };
    let aria = if invalid {
        " aria-invalid=\"true\" aria-describedby=\"errors\""
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "<div class=\"field\">\n<label for=\"{id}\">{label}</label>\n\
         <input id=\"{id}\" name=\"{id}\" type=\"{kind}\"{extra} value=\"{}\"{aria}>\n</div>",
        Esc(value)
    );
}

/// Which input a refusal is about.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Field {
    Id,
    Name,
}

/// What `GET /` shows.
pub struct Index<'a> {
    /// A confirmation, in the status region.
    pub notice: Option<&'a str>,
    /// Refusals and outages, in the alert region.
    pub alerts: &'a [String],
    pub invalid: Option<Field>,
    /// What the form shows: what the user typed, after a refusal.
    pub id: &'a str,
    pub name: &'a str,
    /// `None` when the users could not be listed.
    pub users: Option<&'a [User]>,
    /// The page shows users after this ID.
    pub after: Option<u64>,
    /// There are more users, after this ID.
    pub next: Option<u64>,
}

pub fn index(v: &Index<'_>) -> String {
    let mut out = String::with_capacity(4096);
    out.push_str("<h1>Users</h1>\n");
    if let Some(notice) = v.notice {
        let _ = writeln!(
            out,
            "<div class=\"status\" role=\"status\"><p>{}</p></div>",
            Esc(notice)
        );
    }
    alerts(&mut out, v.alerts);
    out.push_str(
        "<section aria-labelledby=\"add-heading\">\n<h2 id=\"add-heading\">Add a user</h2>\n\
         <form method=\"post\" action=\"/users\">\n",
    );
    input(
        &mut out,
        "id",
        "ID",
        "number",
        v.id,
        v.invalid == Some(Field::Id),
    );
    input(
        &mut out,
        "name",
        "Name",
        "text",
        v.name,
        v.invalid == Some(Field::Name),
    );
    out.push_str("<button type=\"submit\">Add user</button>\n</form>\n</section>\n");
    out.push_str(
        "<section aria-labelledby=\"list-heading\">\n<h2 id=\"list-heading\">All users</h2>\n",
    );
    match v.users {
        None => out.push_str("<p>The list of users cannot be shown right now.</p>\n"),
        Some([]) if v.after.is_none() => out.push_str("<p>No users yet.</p>\n"),
        Some([]) => out.push_str("<p>No more users.</p>\n"),
        Some(users) => table(&mut out, users),
    }
    if v.after.is_some() || v.next.is_some() {
        out.push_str("<nav class=\"pages\" aria-label=\"Pages of users\">\n");
        if v.after.is_some() {
            out.push_str("<a href=\"/\">First page</a>\n");
        }
        if let Some(next) = v.next {
            let _ = writeln!(out, "<a href=\"/?after={next}\">Next page</a>");
        }
        out.push_str("</nav>\n");
    }
    out.push_str("</section>\n");
    layout("Users", !v.alerts.is_empty(), &out)
}

fn table(out: &mut String, users: &[User]) {
    out.push_str(
        "<table>\n<thead><tr><th scope=\"col\">ID</th><th scope=\"col\">Name</th>\
         <th scope=\"col\">Actions</th></tr></thead>\n<tbody>\n",
    );
    for u in users {
        let (id, name) = (u.id, Esc(&u.name));
        let _ = writeln!(
            out,
            "<tr><td>{id}</td><td class=\"name\">{name}</td><td class=\"actions\">\
             <a href=\"/users/{id}/edit\" aria-label=\"Edit user {id} ({name})\">Edit</a>\
             <form method=\"post\" action=\"/users/{id}/delete\">\
             <button type=\"submit\" class=\"danger\" aria-label=\"Delete user {id} ({name})\">Delete</button>\
             </form></td></tr>"
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

/// `GET /users/{id}/edit`: the name form, prefilled (or as typed, after a refusal).
pub fn edit(id: u64, name: &str, alert_list: &[String], invalid: bool) -> String {
    let mut out = String::with_capacity(2048);
    let _ = writeln!(out, "<h1>Edit user {id}</h1>");
    alerts(&mut out, alert_list);
    let _ = writeln!(out, "<form method=\"post\" action=\"/users/{id}\">");
    input(&mut out, "name", "Name", "text", name, invalid);
    out.push_str(
        "<button type=\"submit\">Save</button>\n</form>\n<p><a href=\"/\">Back to all users</a></p>\n",
    );
    layout(&format!("Edit user {id}"), !alert_list.is_empty(), &out)
}

/// A page that is only a heading, an explanation (an alert) and the way back.
pub fn error(title: &str, message: &str) -> String {
    let body = format!(
        "<h1>{title}</h1>\n<div class=\"alert\" role=\"alert\"><p>{message}</p></div>\n\
         <p><a href=\"/\">Back to all users</a></p>\n",
        title = Esc(title),
        message = Esc(message),
    );
    layout(title, true, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_five() {
        assert_eq!(
            Esc(r#"<a href="x" onclick='y'>&amp;</a>"#).to_string(),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;"
        );
        assert_eq!(Esc("Zoë ✓").to_string(), "Zoë ✓");
        assert_eq!(Esc("").to_string(), "");
    }

    #[test]
    fn index_escapes_every_value() {
        let evil = "\"><script>x</script>";
        let users = [User {
            id: 3,
            name: evil.into(),
        }];
        let alerts = [evil.to_string()];
        let html = index(&Index {
            notice: Some(evil),
            alerts: &alerts,
            invalid: Some(Field::Name),
            id: evil,
            name: evil,
            users: Some(&users),
            after: None,
            next: Some(3),
        });
        assert!(!html.contains("<script"), "{html}");
        assert_eq!(html.matches("&lt;script&gt;").count(), 7, "{html}");
        assert!(html.contains("<html lang=\"en\">") && html.contains("<main>"));
        assert!(html.contains("<title>Error: Users – Users</title>"));
        assert!(html.contains("id=\"name\" name=\"name\" type=\"text\" autocomplete=\"off\" value=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\" aria-invalid=\"true\""));
        assert!(html.contains("<a href=\"/?after=3\">Next page</a>"));
        assert!(!error("<b>", "<i>").contains("<b>"));
    }

    #[test]
    fn the_style_version_follows_the_content() {
        assert_ne!(fnv1a(b"a"), fnv1a(b"b"));
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    }
}

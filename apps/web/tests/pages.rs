//! The pages, in-process against the router, with a real (fake, in-memory) users API.

mod common;

use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};

use common::*;

const UNAVAILABLE: &str = "The users service is unavailable right now: ";

#[tokio::test]
async fn the_list_renders_and_escapes_names() {
    let evil = "<script>alert(\"x\")</script> & 'co'";
    let (app, _) = with_users(&[(1, "Ada"), (2, evil)]).await;
    let res = get(&app, "/").await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.header("content-type"), "text/html; charset=utf-8");
    let html = &res.body;
    for part in [
        "<html lang=\"en\">",
        "<main>",
        "<h1>Users</h1>",
        "<h2 id=\"add-heading\">Add a user</h2>",
        "<form method=\"post\" action=\"/users\">",
        "<label for=\"id\">ID</label>",
        "<input id=\"id\" name=\"id\" type=\"number\" min=\"1\"",
        "<label for=\"name\">Name</label>",
        ">Add user</button>",
        "<th scope=\"col\">ID</th><th scope=\"col\">Name</th>",
        "<td>1</td><td class=\"name\">Ada</td>",
        "<a href=\"/users/1/edit\" aria-label=\"Edit user 1 (Ada)\">Edit</a>",
        "<form method=\"post\" action=\"/users/2/delete\">",
        ">Delete</button>",
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;",
    ] {
        assert!(html.contains(part), "no {part:?} in\n{html}");
    }
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("No users yet."));
    assert_eq!(res.region("alert"), "");
    assert!(
        res.header("content-security-policy")
            .contains("default-src 'none'")
    );
}

#[tokio::test]
async fn an_empty_list_says_so_and_long_lists_have_pages() {
    let (app, fake) = with_users(&[]).await;
    let res = get(&app, "/").await;
    assert_eq!(res.status, 200);
    assert!(res.body.contains("<p>No users yet.</p>"), "{}", res.body);
    assert!(!res.body.contains("<table>"));
    let many: Vec<(u64, String)> = (1..=101).map(|i| (i, format!("user {i}"))).collect();
    let many: Vec<(u64, &str)> = many.iter().map(|(i, n)| (*i, n.as_str())).collect();
    fake.seed(&many);
    let first = get(&app, "/").await;
    assert!(first.body.contains("<td>100</td>") && !first.body.contains("<td>101</td>"));
    assert!(
        first.body.contains("<a href=\"/?after=100\">Next page</a>"),
        "{}",
        first.body
    );
    let second = get(&app, "/?after=100").await;
    assert!(second.body.contains("<td>101</td>") && !second.body.contains("<td>100</td>"));
    assert!(second.body.contains("<a href=\"/\">First page</a>"));
    assert!(!second.body.contains("Next page"));
}

#[tokio::test]
async fn adding_redirects_then_confirms() {
    let (app, fake) = with_users(&[]).await;
    let res = post(&app, "/users", &[("id", "1"), ("name", "  Ada  ")]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let to = res.header("location").to_owned();
    assert_eq!(to, "/?msg=added&id=1&name=Ada");
    assert_eq!(fake.name_of(1).as_deref(), Some("Ada"));
    let page = get(&app, &to).await;
    assert_eq!(page.status, 200);
    assert!(
        page.region("status").contains("<p>Added user 1 (Ada).</p>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<td>1</td><td class=\"name\">Ada</td>"));
    // A name that needs encoding in the redirect and escaping on the page.
    let res = post(
        &app,
        "/users",
        &[("id", "2"), ("name", "Zoë & <b>\"bold\"</b>")],
    )
    .await;
    assert_eq!(res.status, 303);
    let page = get(&app, res.header("location")).await;
    let notice = page.region("status");
    assert!(
        notice.contains("Added user 2 (Zoë &amp; &lt;b&gt;&quot;bold&quot;&lt;/b&gt;)."),
        "{notice}"
    );
    // Hand-made confirmations show only what follows the rules, escaped.
    let page = get(&app, "/?msg=added&id=3&name=%3Cscript%3E").await;
    assert!(
        page.region("status")
            .contains("Added user 3 (&lt;script&gt;).")
    );
    for bad in [
        "/?msg=added&id=0&name=x",
        "/?msg=hacked&id=1",
        "/?msg=added&id=1&name=a%00b",
    ] {
        let page = get(&app, bad).await;
        assert_eq!((page.status, page.region("status")), (200, ""), "{bad}");
    }
}

#[tokio::test]
async fn a_duplicate_id_is_409_with_the_api_message_and_the_form_kept() {
    let (app, fake) = with_users(&[(1, "Ada")]).await;
    let res = post(&app, "/users", &[("id", "1"), ("name", "Bob \"B\"")]).await;
    assert_eq!(res.status, 409, "{}", res.body);
    res.assert_alert("<p>A user with ID 1 already exists.</p>");
    assert_eq!(value_of(&res.body, "id"), "1");
    assert_eq!(value_of(&res.body, "name"), "Bob &quot;B&quot;");
    assert!(
        res.body
            .contains("aria-invalid=\"true\" aria-describedby=\"errors\"")
    );
    assert!(res.body.contains("<title>Error: Users"));
    // The list is still there, unchanged.
    assert!(res.body.contains("<td class=\"name\">Ada</td>"));
    assert_eq!(fake.name_of(1).as_deref(), Some("Ada"));
}

#[tokio::test]
async fn invalid_input_is_refused_without_calling_the_api() {
    let (app, fake) = with_users(&[]).await;
    let id_rule = "ID must be a positive integer up to 9007199254740991";
    let long = "x".repeat(101);
    let cases = [
        ("", "Ada", id_rule),
        ("abc", "Ada", id_rule),
        ("0", "Ada", "(got 0)."),
        ("-5", "Ada", "(got -5)."),
        ("9007199254740992", "Ada", id_rule),
        ("1.5", "Ada", id_rule),
        ("1", "", "Name must not be empty."),
        ("1", "   ", "Name must not be empty."),
        ("1", &long, "Name must be at most 100 characters (got 101)."),
        ("1", "a\u{7}b", "Name must not contain control characters."),
    ];
    for (id, name, message) in cases {
        let res = post(&app, "/users", &[("id", id), ("name", name)]).await;
        assert_eq!(res.status, 422, "{id:?} {name:?}: {}", res.body);
        res.assert_alert(message);
        assert_eq!(value_of(&res.body, "id"), id);
    }
    let res = post(&app, "/users", &[("id", "<i>"), ("name", "<b>")]).await;
    assert_eq!(value_of(&res.body, "id"), "&lt;i&gt;");
    assert_eq!(value_of(&res.body, "name"), "&lt;b&gt;");
    assert_eq!(fake.writes.load(SeqCst), 0, "the API was called");
    assert!(fake.users.lock().unwrap().is_empty());
}

#[tokio::test]
async fn editing_prefills_and_saving_redirects() {
    let (app, fake) = with_users(&[(1, "Ada \"L\"")]).await;
    let page = get(&app, "/users/1/edit").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("<form method=\"post\" action=\"/users/1\">")
    );
    assert!(page.body.contains("<label for=\"name\">Name</label>"));
    assert!(page.body.contains(">Save</button>"));
    assert_eq!(value_of(&page.body, "name"), "Ada &quot;L&quot;");
    let res = post(&app, "/users/1", &[("name", "Grace")]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(fake.name_of(1).as_deref(), Some("Grace"));
    let page = get(&app, res.header("location")).await;
    assert!(
        page.region("status").contains("Saved user 1 (Grace)."),
        "{}",
        page.body
    );
    // Refused: the form again, as typed, with the message; nothing sent.
    let writes = fake.writes.load(SeqCst);
    let res = post(&app, "/users/1", &[("name", "  ")]).await;
    assert_eq!(res.status, 422);
    res.assert_alert("Name must not be empty.");
    assert_eq!(value_of(&res.body, "name"), "  ");
    assert_eq!(fake.writes.load(SeqCst), writes);
    assert_eq!(fake.name_of(1).as_deref(), Some("Grace"));
}

#[tokio::test]
async fn unknown_users_and_bad_ids_are_404_pages() {
    let (app, fake) = with_users(&[(1, "Ada")]).await;
    for path in [
        "/users/99/edit",
        "/users/abc/edit",
        "/users/0/edit",
        "/users/-1/edit",
    ] {
        let res = get(&app, path).await;
        assert_eq!(res.status, 404, "{path}");
        assert!(res.body.contains("<html lang=\"en\">") && res.body.contains("role=\"alert\""));
    }
    assert!(
        get(&app, "/users/99/edit")
            .await
            .body
            .contains("No user with ID 99.")
    );
    let res = post(&app, "/users/99", &[("name", "X")]).await;
    assert_eq!(res.status, 404);
    // A path segment that is not UTF-8 gets the same HTML page, not a plain-text 400.
    let res = get(&app, "/users/%FF/edit").await;
    assert_eq!(res.status, 404);
    assert!(res.body.contains("<html lang=\"en\">"), "{}", res.body);
    for path in [
        "/users/abc",
        "/users/abc/delete",
        "/users/1x/delete",
        "/users/%FF/delete",
    ] {
        assert_eq!(
            post(&app, path, &[("name", "X")]).await.status,
            404,
            "{path}"
        );
    }
    assert_eq!(fake.name_of(1).as_deref(), Some("Ada"));
}

#[tokio::test]
async fn deleting_redirects_then_confirms() {
    let (app, fake) = with_users(&[(1, "Ada"), (2, "Bob")]).await;
    let res = post(&app, "/users/1/delete", &[]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.header("location"), "/?msg=deleted&id=1");
    assert_eq!(fake.name_of(1), None);
    let page = get(&app, "/?msg=deleted&id=1").await;
    assert!(page.region("status").contains("<p>Deleted user 1.</p>"));
    assert!(!page.body.contains("<td>1</td>") && page.body.contains("<td>2</td>"));
    // Again (a second click): it is gone, which is what was asked.
    let res = post(&app, "/users/1/delete", &[]).await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(res.header("location"), "/?msg=deleted&id=1");
    assert_eq!(fake.name_of(2).as_deref(), Some("Bob"));
}

#[tokio::test]
async fn when_users_is_down_the_page_still_renders() {
    let app = web(&closed_url(), 5);
    let res = get(&app, "/").await;
    assert_eq!(res.status, 503, "{}", res.body);
    let alert = res.region("alert");
    assert!(alert.contains(UNAVAILABLE), "{alert}");
    assert!(
        alert.contains("connection refused. Try again in a moment."),
        "{alert}"
    );
    assert!(
        res.body
            .contains("<form method=\"post\" action=\"/users\">")
    );
    assert_eq!(assert_labelled(&res.body), 2);
    let res = post(&app, "/users", &[("id", "7"), ("name", "Ada")]).await;
    assert_eq!(res.status, 502, "{}", res.body);
    assert_eq!(res.region("alert").matches(UNAVAILABLE).count(), 1);
    assert_eq!(
        (value_of(&res.body, "id"), value_of(&res.body, "name")),
        ("7", "Ada")
    );
    for (path, status) in [("/users/1/edit", 502), ("/users/1/delete", 502)] {
        let method = if path.ends_with("delete") {
            "POST"
        } else {
            "GET"
        };
        let res = send(&app, method, path, "").await;
        assert_eq!(res.status, status, "{path}");
        res.assert_alert(UNAVAILABLE);
    }
}

#[tokio::test]
async fn a_slow_users_api_times_out() {
    let (fake, url) = fake_users().await;
    fake.delay_ms.store(3000, SeqCst);
    let app = web(&url, 1);
    let start = Instant::now();
    let res = get(&app, "/").await;
    assert!(
        start.elapsed() < Duration::from_millis(2500),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(res.status, 503);
    res.assert_alert("no answer within 1 s. Try again");
    assert!(res.body.contains("<input id=\"name\""));
}

#[tokio::test]
async fn errors_and_garbage_from_users_are_an_outage() {
    let (app, fake) = with_users(&[(1, "Ada")]).await;
    fake.mode.store(DOWN_503, SeqCst);
    let res = get(&app, "/").await;
    assert_eq!(res.status, 503);
    res.assert_alert("it answered HTTP 503 (storage_unavailable).");
    fake.mode.store(GARBAGE, SeqCst);
    let res = get(&app, "/").await;
    assert_eq!(res.status, 503);
    res.assert_alert("its answer was not the JSON expected.");
    let res = post(&app, "/users", &[("id", "2"), ("name", "Bob")]).await;
    assert_eq!(res.status, 502);
}

#[tokio::test]
async fn health_does_not_depend_on_users() {
    let app = web(&closed_url(), 1);
    for path in ["/healthz", "/status"] {
        let res = get(&app, path).await;
        assert_eq!(
            (res.status, res.body.as_str()),
            (200, r#"{"status":"ok"}"#),
            "{path}"
        );
        assert_eq!(res.header("content-type"), "application/json");
    }
    get(&app, "/").await;
    let res = get(&app, "/metrics").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), web::metrics::CONTENT_TYPE);
    for line in [
        "http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1",
        "http_requests_total{method=\"GET\",route=\"/\",status=\"503\"} 1",
        "web_log_lines_dropped_total",
    ] {
        assert!(res.body.contains(line), "no {line:?} in\n{}", res.body);
    }
}

#[tokio::test]
async fn every_input_is_labelled() {
    let (app, _) = with_users(&[(1, "Ada"), (2, "Bob")]).await;
    assert_eq!(assert_labelled(&get(&app, "/").await.body), 2);
    let refused = post(&app, "/users", &[("id", "x"), ("name", "")]).await;
    assert_eq!(assert_labelled(&refused.body), 2);
    let edit = get(&app, "/users/1/edit").await;
    assert_eq!(assert_labelled(&edit.body), 1);
    for html in [&refused.body, &edit.body] {
        assert!(
            html.contains("<html lang=\"en\">") && html.contains("<main>") && html.contains("<h1>")
        );
    }
    let css = get(&app, "/style.css").await;
    assert!(css.body.contains(":focus-visible"));
}

#[tokio::test]
async fn bad_requests_to_web_are_pages_not_500s() {
    let (app, fake) = with_users(&[]).await;
    let res = get(&app, "/nope/%3Cb%3E").await;
    assert_eq!(res.status, 404);
    assert!(res.header("content-type").starts_with("text/html"));
    assert!(res.body.contains("<h1>Page not found</h1>") && !res.body.contains("<b>"));
    let res = send(&app, "DELETE", "/", "").await;
    assert_eq!(res.status, 405);
    assert!(res.body.contains("<h1>Method not allowed</h1>"));
    assert_eq!(res.header("allow"), "GET,HEAD");
    let huge = form(&[("id", "1"), ("name", &"x".repeat(17 * 1024))]);
    let res = send(&app, "POST", "/users", huge.clone()).await;
    assert_eq!(res.status, 413, "{}", res.body);
    assert!(res.body.contains("larger than 16 KiB"));
    assert_eq!(send(&app, "POST", "/users/1", huge).await.status, 413);
    let res = send(&app, "POST", "/users", "id=1&id=2").await;
    assert_eq!(res.status, 422, "{}", res.body);
    res.assert_alert("The form could not be read.");
    assert_eq!(fake.writes.load(SeqCst), 0);
}

#[tokio::test]
async fn the_stylesheet_is_cacheable_and_versioned() {
    let (app, _) = with_users(&[]).await;
    let res = get(&app, "/style.css").await;
    assert_eq!(res.status, 200);
    assert_eq!(res.header("content-type"), "text/css; charset=utf-8");
    assert!(res.header("cache-control").contains("max-age=31536000"));
    let page = get(&app, "/").await;
    let link = format!("href=\"/style.css?v={:016x}\"", web::page::STYLE_VERSION);
    assert!(page.body.contains(&link), "{}", page.body);
    assert_eq!(page.header("cache-control"), "no-store");
}

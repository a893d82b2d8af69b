//! The benchmark's ceiling: a bare axum hello-world on the same stack and build settings as the
//! API, with no auth, logging, metrics or rate limiting. `PORT` (default 8081).

use axum::Router;
use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8081);
    let app = Router::new().route("/", get(|| async { "devops test server flying!!" }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await
}

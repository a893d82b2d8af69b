//! What can stop `stackctl dev`, each with what to do about it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DevError {
    #[error("port {port} ({what}) is in use")]
    PortInUse { port: u16, what: String },
    #[error("service `{service}` runs a prebuilt image (`image: {image}`)")]
    Prebuilt { service: String, image: String },
    #[error("cargo was not found")]
    NoCargo,
    #[error("building service `{service}` failed: {detail}")]
    Build { service: String, detail: String },
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the local PostgreSQL did not start: {detail}")]
    Postgres { detail: String },
    #[error("with --containers the database must be PostgreSQL, and it is not installed")]
    SqliteInContainers,
    #[error("port {port} ({what}) is below 1024, which only root may listen on")]
    PrivilegedPort { port: u16, what: String },
    #[error("--containers needs podman or Docker, and neither answers")]
    NoRuntime,
    #[error("could not {action}: {detail}")]
    Runtime { action: String, detail: String },
    #[error("service `{service}` has no local token yet")]
    NoToken { service: String },
}

impl DevError {
    pub fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| DevError::Io {
            action,
            path,
            source,
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            DevError::PortInUse { port, .. } => format!(
                "stop the program listening there (`ss -ltnp 'sport = :{port}'` names it), or give \
                 `stackctl dev` another port with --port when it is the front's"
            ),
            DevError::Prebuilt { .. } => "run with --containers to run the image in podman or \
                 Docker; without it, `stackctl dev` runs the services it builds from source"
                .into(),
            DevError::NoCargo => {
                "install Rust (https://rustup.rs): `stackctl dev` builds the services with cargo"
                    .into()
            }
            DevError::Build { .. } => {
                "fix the error above; `stackctl dev --watch` rebuilds when you save".into()
            }
            DevError::Io { .. } => "check the directory's permissions and free space".into(),
            DevError::Postgres { .. } => "read the log under .stackctl/dev/postgres/, or remove \
                 PostgreSQL from PATH to use SQLite instead"
                .into(),
            DevError::NoToken { .. } => {
                "run `stackctl dev` once: it makes each service's local token".into()
            }
            DevError::SqliteInContainers => {
                "install PostgreSQL (`apt install postgresql`), or run \
                 without --containers to use SQLite"
                    .into()
            }
            DevError::PrivilegedPort { what, .. } if what == "the front" => {
                "give the front a port from 1024 up with --port".into()
            }
            DevError::PrivilegedPort { .. } => {
                "set the service's `port:` to 1024 or more (Fargate tasks may keep theirs)".into()
            }
            DevError::NoRuntime => "install podman (`apt install podman`) or start Docker, or \
                 run without --containers to run the services as processes"
                .into(),
            DevError::Runtime { .. } => "check that the container runtime works: `podman info` \
                 (or `docker info`)"
                .into(),
        })
    }
}

//! What `stackctl dev` runs, decided without I/O: each service's port on this machine and
//! its environment, the same as its task definition's but for the addresses (this machine's
//! instead of the VPC's) and the database (the local one).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::DevError;
use crate::config::{Source, Stack, TOKEN_ENV};
use crate::plan::task_def::{DATABASE_ENV, environment, without_database};

/// What the machine supplies: the tokens and the database. (No `Debug` prints a secret.)
#[derive(Clone, Default)]
pub struct LocalFacts {
    pub tokens: BTreeMap<String, String>,
    pub database: Option<LocalDatabase>,
}

/// The local database, as its services are told of it.
#[derive(Clone, PartialEq)]
pub enum LocalDatabase {
    /// A PostgreSQL cluster on 127.0.0.1, given as the same variables RDS's are.
    Postgres {
        port: u16,
        name: String,
        user: String,
        password: String,
    },
    /// A SQLite file, given as `DATABASE_URL`.
    Sqlite { path: PathBuf },
}

#[derive(Clone, PartialEq)]
pub struct DevService {
    pub name: String,
    /// The Cargo package (None: a prebuilt image).
    pub package: Option<PathBuf>,
    pub port: u16,
    pub health: String,
    pub env: BTreeMap<String, String>,
}

impl std::fmt::Debug for LocalFacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalFacts")
            .field("tokens", &self.tokens.keys().collect::<Vec<_>>())
            .field("database", &self.database)
            .finish()
    }
}

impl std::fmt::Debug for LocalDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LocalDatabase::Postgres {
                port, name, user, ..
            } => write!(
                f,
                "Postgres {{ port: {port}, name: {name:?}, user: {user:?} }}"
            ),
            LocalDatabase::Sqlite { path } => write!(f, "Sqlite {{ path: {path:?} }}"),
        }
    }
}

impl std::fmt::Debug for DevService {
    /// The environment's names only: values include the token and the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevService")
            .field("name", &self.name)
            .field("package", &self.package)
            .field("port", &self.port)
            .field("health", &self.health)
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Each service's port here: its own, unless a service before it (by name) or the front has
/// it; then the next free one above. In the cloud each task has its own address.
pub fn ports(stack: &Stack, front: u16) -> BTreeMap<String, u16> {
    let mut used = BTreeSet::from([front]);
    let mut ports = BTreeMap::new();
    for svc in stack.services.values() {
        let mut port = svc.port;
        while used.contains(&port) {
            port = port.checked_add(1).unwrap_or(1024);
        }
        used.insert(port);
        ports.insert(svc.name.clone(), port);
    }
    ports
}

/// The services to run, in name order. As processes (`containers` false) a service calls
/// another at 127.0.0.1; in containers by its private name, as in the VPC.
pub fn services(
    stack: &Stack,
    ports: &BTreeMap<String, u16>,
    facts: &LocalFacts,
    containers: bool,
) -> Result<Vec<DevService>, DevError> {
    let names = stack.names();
    let mut out = Vec::new();
    for svc in stack.services.values() {
        let package = match &svc.source {
            Source::Build(dir) => Some(dir.clone()),
            Source::Image(_) if containers => None,
            Source::Image(image) => {
                return Err(DevError::Prebuilt {
                    service: svc.name.clone(),
                    image: image.clone(),
                });
            }
        };
        let port = ports[&svc.name];
        let mut env = environment(stack, svc, port, |callee| {
            let host = match containers {
                true => names.private_host(&callee.name),
                false => "127.0.0.1".into(),
            };
            format!("http://{host}:{}", ports[&callee.name])
        });
        if let Some(token) = facts.tokens.get(&svc.name) {
            env.insert(TOKEN_ENV.into(), token.clone());
        }
        if without_database(stack, svc) {
            env.insert(DATABASE_ENV.into(), "none".into());
        } else if stack.database_of(&svc.name).is_some()
            && let Some(db) = &facts.database
        {
            database_env(db, &mut env);
        }
        out.push(DevService {
            name: svc.name.clone(),
            package,
            port,
            health: svc.health.clone(),
            env,
        });
    }
    Ok(out)
}

fn database_env(db: &LocalDatabase, env: &mut BTreeMap<String, String>) {
    match db {
        LocalDatabase::Postgres {
            port,
            name,
            user,
            password,
        } => {
            env.insert("DATABASE_HOST".into(), "127.0.0.1".into());
            env.insert("DATABASE_PORT".into(), port.to_string());
            env.insert("DATABASE_NAME".into(), name.clone());
            env.insert("DATABASE_USER".into(), user.clone());
            env.insert("DATABASE_PASSWORD".into(), password.clone());
            // A cluster on the loopback interface has no certificate.
            env.insert("DATABASE_SSLMODE".into(), "disable".into());
        }
        LocalDatabase::Sqlite { path } => {
            env.insert(
                "DATABASE_URL".into(),
                format!("sqlite://{}", path.display()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::task_def::task_def;

    use crate::plan::test_support::stack_from as stack;

    const TWO_TIER: &str = r#"
name: twotier
services:
  web: { build: apps/web, port: 8000, health: /healthz, public: true, calls: [users], env: { RUST_LOG: debug } }
  users: { build: apps/users, port: 8080, health: /healthz, token: true }
  api: { build: apps/api, port: 8080 }
database: { version: "18", services: [users] }
"#;

    /// users' token, and a local PostgreSQL on `port` with `password`.
    fn postgres_facts(token: &str, port: u16, password: &str) -> LocalFacts {
        LocalFacts {
            tokens: BTreeMap::from([("users".into(), token.into())]),
            database: Some(LocalDatabase::Postgres {
                port,
                name: "app".into(),
                user: "app".into(),
                password: password.into(),
            }),
        }
    }

    #[test]
    fn a_port_taken_by_an_earlier_service_or_the_front_moves_up() {
        let s = stack(TWO_TIER);
        let p = ports(&s, 3000);
        assert_eq!(p["api"], 8080);
        assert_eq!(p["users"], 8081);
        assert_eq!(p["web"], 8000);
        assert_eq!(ports(&s, 8000)["web"], 8001);
    }

    #[test]
    fn the_environment_is_the_task_definitions_with_local_addresses() {
        let s = stack(TWO_TIER);
        let facts = postgres_facts("tok", 5999, "pw");
        let p = ports(&s, 3000);
        let all = services(&s, &p, &facts, false).unwrap();
        let by = |n: &str| all.iter().find(|d| d.name == n).unwrap().env.clone();
        let web = by("web");
        assert_eq!(web["USERS_URL"], "http://127.0.0.1:8081");
        let inside = services(&s, &p, &facts, true).unwrap();
        assert_eq!(
            inside.iter().find(|d| d.name == "web").unwrap().env["USERS_URL"],
            "http://users.twotier-default.internal:8081",
            "in containers, the private name as in the VPC"
        );
        assert_eq!(web["RUST_LOG"], "debug");
        assert_eq!(web["DATABASE"], "none");
        let users = by("users");
        assert_eq!(users["PORT"], "8081");
        assert_eq!(users["API_TOKEN"], "tok");
        assert_eq!(users["DATABASE_PORT"], "5999");
        assert_eq!(users["DATABASE_SSLMODE"], "disable");
        assert!(!users.contains_key("DATABASE"));

        // Every variable the cloud gives as plain environment is here, with the same
        // value but for ports and addresses.
        let cloud =
            task_def(&s, &crate::plan::test_support::facts(), &s.services["web"]).environment;
        for (k, v) in &cloud {
            let local = &web[k];
            if k.ends_with("_URL") || k == "PORT" {
                continue;
            }
            assert_eq!(local, v, "{k}");
        }
    }

    #[test]
    fn debug_output_holds_no_secret() {
        let s = stack(TWO_TIER);
        let facts = postgres_facts("tok-secret", 1, "pw-secret");
        let all = services(&s, &ports(&s, 3000), &facts, false).unwrap();
        let shown = format!("{facts:?} {all:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("API_TOKEN"), "{shown}");
    }

    #[test]
    fn sqlite_is_a_url_and_prebuilt_images_are_refused() {
        let s = stack(TWO_TIER);
        let facts = LocalFacts {
            tokens: BTreeMap::new(),
            database: Some(LocalDatabase::Sqlite {
                path: "/p/.stackctl/dev/database.sqlite".into(),
            }),
        };
        let all = services(&s, &ports(&s, 3000), &facts, false).unwrap();
        assert_eq!(
            all.iter().find(|d| d.name == "users").unwrap().env["DATABASE_URL"],
            "sqlite:///p/.stackctl/dev/database.sqlite"
        );
        let img = stack("name: d\nservices:\n  x: { image: \"nginx:1\", port: 80 }\n");
        let err = services(&img, &ports(&img, 3000), &facts, false).unwrap_err();
        assert!(matches!(err, DevError::Prebuilt { .. }), "{err}");
        assert!(services(&img, &ports(&img, 3000), &facts, true).is_ok());
    }
}

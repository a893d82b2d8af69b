//! The stack's database on this machine: a PostgreSQL cluster of its own when PostgreSQL is
//! installed (its data kept between runs), otherwise a SQLite file; said at start either way.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::DevError;
use super::layout::{Layout, private_dir, write_private};
use super::output::Output;
use super::plan::LocalDatabase;
use crate::aws::ssm::generate_token;
use crate::config::Database;

/// The running database; stopped by [`LocalDb::stop`], or on drop.
pub struct LocalDb {
    pub facts: LocalDatabase,
    cluster: Option<Cluster>,
}

struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    /// PostgreSQL refuses to run as root: as root, it runs as the `postgres` user.
    user: Option<(u32, u32)>,
}

impl LocalDb {
    pub fn stop(&mut self) {
        if let Some(c) = self.cluster.take() {
            let _ = c
                .command("pg_ctl")
                .args(["stop", "-m", "fast", "-w", "-D"])
                .arg(&c.data)
                .output();
        }
    }
}

impl Drop for LocalDb {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Cluster {
    fn command(&self, program: &str) -> std::process::Command {
        let mut cmd = std::process::Command::new(self.bin.join(program));
        let home = self.data.parent().unwrap_or(Path::new("/"));
        cmd.stdin(Stdio::null()).current_dir(home);
        if let Some((uid, gid)) = self.user {
            use std::os::unix::process::CommandExt;
            cmd.uid(uid).gid(gid).env("HOME", home);
        }
        cmd
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<String, DevError> {
        let out = self
            .command(program)
            .args(args)
            .output()
            .map_err(|e| DevError::Postgres {
                detail: format!("start {program}: {e}"),
            })?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            Ok(text)
        } else {
            Err(DevError::Postgres {
                detail: format!("{program} failed: {}", text.trim()),
            })
        }
    }
}

/// Starts the stack's database.
pub fn start(layout: &Layout, db: &Database, out: &Output) -> Result<LocalDb, DevError> {
    let sqlite = |why: &str| {
        out.say(&format!(
            "database: SQLite at {} ({why})",
            layout.sqlite().display()
        ));
        Ok(LocalDb {
            facts: LocalDatabase::Sqlite {
                path: layout.sqlite(),
            },
            cluster: None,
        })
    };
    let Some(bin) = postgres_bin() else {
        return sqlite("PostgreSQL is not installed: no initdb on PATH or in /usr/lib/postgresql");
    };
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let user = match root {
        false => None,
        true => match postgres_user() {
            Some(ids) => Some(ids),
            None => {
                return sqlite("PostgreSQL refuses to run as root and there is no `postgres` user");
            }
        },
    };
    // As root the cluster belongs to `postgres`, which may not enter the project's
    // directories: it lives in a directory of its own under the temporary directory.
    let dir = match user {
        None => layout.postgres(),
        Some(_) => std::env::temp_dir().join(format!("stackctl-dev-{}", layout.id())),
    };
    let cluster = Cluster {
        bin,
        data: dir.join("data"),
        user,
    };
    if let Some((uid, _)) = user {
        claim(&dir, uid)?;
    }
    private_dir(&dir)?;
    let password_file = dir.join("password");
    write_private(&password_file, &generate_token())?;
    if let Some((uid, gid)) = user {
        for p in [&dir, &password_file] {
            std::os::unix::fs::chown(p, Some(uid), Some(gid)).map_err(DevError::io("chown", p))?;
        }
    }
    let password = std::fs::read_to_string(&password_file)
        .map_err(DevError::io("read", &password_file))?
        .trim()
        .to_string();
    let data = cluster.data.to_string_lossy().to_string();
    let version = cluster.run("initdb", &["--version"])?;
    if !cluster.data.join("PG_VERSION").exists() {
        let pwfile = format!("--pwfile={}", password_file.display());
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                &db.user,
                &pwfile,
                "-A",
                "scram-sha-256",
                "-E",
                "UTF8",
            ],
        )?;
    }
    // A run killed before it could stop the cluster left it running.
    if cluster.run("pg_ctl", &["status", "-D", &data]).is_ok() {
        cluster.run("pg_ctl", &["stop", "-m", "fast", "-w", "-D", &data])?;
    }
    let port = free_port()?;
    let log = dir.join("postgres.log").to_string_lossy().to_string();
    let options = format!("-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories=''");
    cluster.run(
        "pg_ctl",
        &[
            "start", "-w", "-t", "60", "-D", &data, "-l", &log, "-o", &options,
        ],
    )?;
    let mut running = LocalDb {
        facts: LocalDatabase::Postgres {
            port,
            name: db.name.clone(),
            user: db.user.clone(),
            password: password.clone(),
        },
        cluster: Some(cluster),
    };
    let c = running.cluster.as_ref().expect("just set");
    let created = c
        .command("createdb")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            &db.user,
            &db.name,
        ])
        .env("PGPASSWORD", &password)
        .output()
        .map_err(|e| DevError::Postgres {
            detail: format!("start createdb: {e}"),
        })?;
    let said = String::from_utf8_lossy(&created.stderr);
    if !created.status.success() && !said.contains("already exists") {
        running.stop();
        return Err(DevError::Postgres {
            detail: format!("createdb failed: {}", said.trim()),
        });
    }
    out.say(&format!(
        "database: {} on 127.0.0.1:{port}, data in {} (the stack asks for PostgreSQL {})",
        version
            .trim()
            .trim_start_matches("initdb ")
            .replace("(PostgreSQL)", "PostgreSQL"),
        dir.display(),
        db.version
    ));
    Ok(running)
}

/// A directory under the shared temporary directory is ours only if it is a directory (not a
/// link planted there) owned by root or by `postgres`.
fn claim(dir: &Path, postgres: u32) -> Result<(), DevError> {
    use std::os::unix::fs::MetadataExt;
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() && (m.uid() == 0 || m.uid() == postgres) => Ok(()),
        Ok(_) => Err(DevError::Postgres {
            detail: format!(
                "{} exists and is not a directory of root or postgres; remove it",
                dir.display()
            ),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(dir)
                .map_err(DevError::io("create", dir))
        }
        Err(e) => Err(DevError::io("inspect", dir)(e)),
    }
}

/// The directory of `initdb`: on PATH, else the newest under /usr/lib/postgresql (Debian).
fn postgres_bin() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("initdb"))
            .find(|p| p.is_file())
    });
    if let Some(initdb) = on_path {
        let real = std::fs::canonicalize(&initdb).unwrap_or(initdb);
        return real.parent().map(Path::to_path_buf);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn postgres_user() -> Option<(u32, u32)> {
    let name = std::ffi::CString::new("postgres").expect("no NUL");
    // SAFETY: getpwnam returns NULL or a pointer to static storage, read at once.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    // SAFETY: checked non-null.
    (!pw.is_null()).then(|| unsafe { ((*pw).pw_uid, (*pw).pw_gid) })
}

fn free_port() -> Result<u16, DevError> {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(DevError::io("find a free port on", "127.0.0.1"))
}

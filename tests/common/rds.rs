//! The RDS instance moto does not run: the local PostgreSQL (STACKCTL_TEST_POSTGRES_URL, which
//! like RDS takes passwords only over TLS) plays it. From what moto says the instance is (its
//! endpoint, master user, database name and managed secret), [`Instance::attach`] makes that
//! role, with the password in the secret, and that database, and serves them at the endpoint's
//! port on a loopback address of their own that forwards to PostgreSQL; tasks the data plane
//! starts resolve the endpoint's name to that address, as they would through the VPC's DNS.
//!
//! A restore from a snapshot gets the data the instance had when the snapshot was taken: the
//! stand-in keeps the database when an instance goes, and attaching to the restored instance
//! (same identifier, hence same endpoint) re-keys the role with the restored instance's secret.

use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::dataplane::ControlPlane;

pub struct Instance {
    pub id: String,
    pub endpoint: String,
    pub address: Ipv4Addr,
    pub user: String,
    pub db_name: String,
    pub secret_arn: String,
    admin_url: String,
    forward: JoinHandle<()>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.forward.abort();
    }
}

/// Runs `sql` as the PostgreSQL superuser, through stdin (passwords stay off command lines).
pub fn psql(admin_url: &str, sql: &str) -> String {
    let mut child = Command::new("psql")
        .args([admin_url, "-v", "ON_ERROR_STOP=1", "-qAt"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("psql (Debian's postgresql-client)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(sql.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `'value'` as a SQL string literal.
fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

impl Instance {
    /// Serves RDS instance `id` (as moto describes it now) from the local PostgreSQL.
    pub async fn attach(cp: &ControlPlane, id: &str, admin_url: &str) -> Instance {
        let out = cp
            .aws
            .rds
            .describe_db_instances()
            .db_instance_identifier(id)
            .send()
            .await
            .unwrap();
        let db = &out.db_instances()[0];
        let endpoint = db.endpoint().unwrap();
        let (host, port) = (
            endpoint.address().unwrap().to_string(),
            endpoint.port().unwrap() as u16,
        );
        let user = db.master_username().unwrap().to_string();
        let db_name = db.db_name().unwrap().to_string();
        let secret_arn = db
            .master_user_secret()
            .and_then(|s| s.secret_arn())
            .expect("an instance whose password RDS manages")
            .to_string();
        let password = password(cp, &secret_arn).await;
        let exists = psql(
            admin_url,
            &format!("SELECT 1 FROM pg_roles WHERE rolname = {}", literal(&user)),
        );
        let verb = if exists.is_empty() { "CREATE" } else { "ALTER" };
        psql(
            admin_url,
            &format!(
                "{verb} ROLE \"{user}\" LOGIN PASSWORD {}",
                literal(&password)
            ),
        );
        let has_db = psql(
            admin_url,
            &format!(
                "SELECT 1 FROM pg_database WHERE datname = {}",
                literal(&db_name)
            ),
        );
        if has_db.is_empty() {
            psql(
                admin_url,
                &format!("CREATE DATABASE \"{db_name}\" OWNER \"{user}\""),
            );
        }
        let target = admin_url
            .split('@')
            .nth(1)
            .and_then(|h| h.split('/').next())
            .unwrap()
            .to_string();
        let (listener, address) = listen(port).await;
        let forward = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        let mut hosts = cp.hosts.lock().unwrap();
        hosts.retain(|(name, _)| *name != host);
        hosts.push((host.clone(), address.to_string()));
        Instance {
            id: id.to_string(),
            endpoint: host,
            address,
            user,
            db_name,
            secret_arn,
            admin_url: admin_url.to_string(),
            forward,
        }
    }

    /// What RDS does when it rotates the managed password: a new password in the secret
    /// (AWSCURRENT) and on the role. Sessions opened with the old one stay open; `end_sessions`
    /// ends them now, as their age ends them in time.
    pub async fn rotate(&self, cp: &ControlPlane, end_sessions: bool) -> String {
        let new = format!("rotated-{}", super::unique_name());
        let secret = serde_json::json!({ "username": self.user, "password": new });
        cp.secrets
            .put_secret_value()
            .secret_id(&self.secret_arn)
            .secret_string(secret.to_string())
            .send()
            .await
            .unwrap();
        psql(
            &self.admin_url,
            &format!("ALTER ROLE \"{}\" PASSWORD {}", self.user, literal(&new)),
        );
        if end_sessions {
            psql(
                &self.admin_url,
                &format!(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = {}",
                    literal(&self.user)
                ),
            );
        }
        new
    }

    /// Whether every session of the instance's user is encrypted (and there is at least one).
    pub fn sessions_encrypted(&self) -> bool {
        let rows = psql(
            &self.admin_url,
            &format!(
                "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.usename = {}",
                literal(&self.user)
            ),
        );
        !rows.is_empty() && rows.lines().all(|l| l == "t")
    }

    /// Removes the database and the role for good (the end of a test).
    pub fn drop_data(&self) {
        psql(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.db_name),
        );
        psql(
            &self.admin_url,
            &format!("DROP ROLE IF EXISTS \"{}\"", self.user),
        );
    }
}

/// The managed secret's current password.
async fn password(cp: &ControlPlane, secret_arn: &str) -> String {
    let value = cp
        .secrets
        .get_secret_value()
        .secret_id(secret_arn)
        .send()
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(value.secret_string().unwrap()).unwrap();
    json["password"].as_str().unwrap().to_string()
}

/// A listener on `port` at a loopback address no one else uses (127.0.0.0/8 is all loopback).
pub(crate) async fn listen(port: u16) -> (TcpListener, Ipv4Addr) {
    for _ in 0..200 {
        let address = Ipv4Addr::new(
            127,
            rand::random::<u8>() % 200 + 1,
            rand::random::<u8>(),
            rand::random::<u8>() % 250 + 2,
        );
        if let Ok(l) = TcpListener::bind((address, port)).await {
            return (l, address);
        }
    }
    panic!("no loopback address free for port {port}");
}

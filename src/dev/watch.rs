//! `--watch`: a service is rebuilt and restarted when a file of its package, or of a package
//! it uses through a `path` dependency, changes. The others keep running; a build that fails
//! keeps the running version. Files are polled (name, size, modification time), which needs
//! no platform watcher and costs a few milliseconds for a source tree of hundreds of files.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use std::sync::Arc;

use tokio::sync::watch;

use super::build::{Artifact, Builder};

pub const POLL: Duration = Duration::from_millis(300);

/// A watched service: the directories it is built from, and where to send a new build.
pub struct Watched {
    pub name: String,
    pub sources: Vec<PathBuf>,
    pub artifact: watch::Sender<Artifact>,
}

/// Polls until `stop` turns true.
pub async fn run(services: Vec<Watched>, builder: Arc<Builder>, mut stop: watch::Receiver<bool>) {
    let out = builder.out.clone();
    let mut seen: BTreeMap<String, u64> = services
        .iter()
        .map(|w| (w.name.clone(), fingerprint(&w.sources)))
        .collect();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            r = stop.changed() => if r.is_err() || *stop.borrow() { return },
        }
        let changed: Vec<&Watched> = services
            .iter()
            .filter(|w| seen.get(&w.name) != Some(&fingerprint(&w.sources)))
            .collect();
        if changed.is_empty() {
            continue;
        }
        // An editor's save can take several writes: let them land before building.
        tokio::time::sleep(POLL).await;
        for w in changed {
            seen.insert(w.name.clone(), fingerprint(&w.sources));
            let started = Instant::now();
            out.say(&format!("{}: sources changed, rebuilding", w.name));
            match builder.artifact(&w.name).await {
                Ok(artifact) => {
                    out.say(&format!(
                        "{}: built in {:.1} s",
                        w.name,
                        started.elapsed().as_secs_f64()
                    ));
                    w.artifact.send_replace(artifact);
                }
                // cargo's errors were shown as they came.
                Err(_) => out.say(&format!(
                    "{}: the build failed (see above); the running version stays",
                    w.name
                )),
            }
        }
    }
}

/// A digest of every file's path, size and modification time under `dirs`, skipping
/// `target/` and hidden entries (`.git`, editors' swap files).
pub fn fingerprint(dirs: &[PathBuf]) -> u64 {
    let mut h = DefaultHasher::new();
    for d in dirs {
        walk(d, &mut h);
    }
    h.finish()
}

fn walk(dir: &Path, h: &mut DefaultHasher) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        let hidden = name.to_string_lossy().starts_with('.');
        if hidden || name == "target" {
            continue;
        }
        let Ok(meta) = e.metadata() else { continue };
        if meta.is_dir() {
            walk(&e.path(), h);
        } else {
            e.path().hash(h);
            meta.len().hash(h);
            meta.modified().ok().hash(h);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_to_a_source_changes_the_fingerprint_and_target_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::create_dir_all(dir.path().join("target")).unwrap();
        std::fs::write(src.join("main.rs"), "fn main() {}").unwrap();
        let dirs = [dir.path().to_path_buf()];
        let before = fingerprint(&dirs);
        std::fs::write(dir.path().join("target/out"), "x").unwrap();
        std::fs::write(dir.path().join(".swp"), "x").unwrap();
        assert_eq!(fingerprint(&dirs), before);
        std::fs::write(src.join("main.rs"), "fn main() { }").unwrap();
        assert_ne!(fingerprint(&dirs), before);
    }
}

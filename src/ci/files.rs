//! Files stackctl writes into a person's repository, and the rule that keeps their edits:
//! each starts with a header holding the SHA-256 of what follows, as written; a file whose
//! content no longer matches it was changed by someone, and is replaced only when asked.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

const MARK: &str = "# stackctl-sha256: ";

/// A file to write, relative to the repository's root, without its header.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub path: PathBuf,
    pub body: String,
}

/// What writing a file did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Created,
    Updated,
    Unchanged,
    /// Changed by someone since stackctl wrote it: left as it is.
    Kept,
    /// Changed by someone, and replaced as `--force` asked.
    Replaced,
}

impl File {
    /// Its whole text: the header, then the body.
    pub fn text(&self, command: &str) -> String {
        format!(
            "# Written by `{command}` (stackctl {}). Run it again after changing stack.yaml;\n# it replaces this file only while the checksum below matches (or with --force).\n{MARK}{}\n{}",
            super::VERSION,
            digest(&self.body),
            self.body
        )
    }
}

fn digest(body: &str) -> String {
    hex::encode(Sha256::digest(body.as_bytes()))
}

/// Whether `text` is as stackctl wrote it: its body matches the checksum in its header.
pub fn untouched(text: &str) -> bool {
    let Some(at) = text.find(MARK) else {
        return false;
    };
    let rest = &text[at + MARK.len()..];
    let Some((sum, body)) = rest.split_once('\n') else {
        return false;
    };
    sum == digest(body)
}

/// Writes `file` under `root` unless someone changed the one there (then only with `force`).
pub fn write(root: &Path, file: &File, command: &str, force: bool) -> std::io::Result<Written> {
    let path = root.join(&file.path);
    let text = file.text(command);
    let outcome = match std::fs::read_to_string(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Written::Created,
        Err(e) => return Err(e),
        Ok(old) if old == text => return Ok(Written::Unchanged),
        Ok(old) if untouched(&old) => Written::Updated,
        Ok(_) if force => Written::Replaced,
        Ok(_) => return Ok(Written::Kept),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // Whole or not at all: a reader never sees half a workflow.
    let tmp = path.with_extension("yml.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, &path)?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(body: &str) -> File {
        File {
            path: ".github/workflows/x.yml".into(),
            body: body.into(),
        }
    }

    #[test]
    fn a_file_someone_changed_is_kept_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let (root, cmd) = (dir.path(), "stackctl ci github");
        assert_eq!(
            write(root, &file("a: 1\n"), cmd, false).unwrap(),
            Written::Created
        );
        assert_eq!(
            write(root, &file("a: 1\n"), cmd, false).unwrap(),
            Written::Unchanged
        );
        assert_eq!(
            write(root, &file("a: 2\n"), cmd, false).unwrap(),
            Written::Updated
        );
        let path = root.join(".github/workflows/x.yml");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(untouched(&text));
        std::fs::write(&path, text.replace("a: 2", "a: 2 # mine")).unwrap();
        assert_eq!(
            write(root, &file("a: 3\n"), cmd, false).unwrap(),
            Written::Kept
        );
        assert!(std::fs::read_to_string(&path).unwrap().contains("# mine"));
        assert_eq!(
            write(root, &file("a: 3\n"), cmd, true).unwrap(),
            Written::Replaced
        );
        assert!(untouched(&std::fs::read_to_string(&path).unwrap()));
        // A file of the same name that stackctl never wrote is someone's.
        std::fs::write(&path, "name: theirs\n").unwrap();
        assert_eq!(
            write(root, &file("a: 3\n"), cmd, false).unwrap(),
            Written::Kept
        );
    }
}

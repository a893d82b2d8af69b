//! Where `stackctl dev` keeps its files: `.stackctl/dev/` beside stack.yaml, readable only
//! by the user, and ignored by git whatever the repository's own .gitignore says.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::DevError;

#[derive(Debug, Clone)]
pub struct Layout {
    /// `.stackctl/dev`.
    pub dev: PathBuf,
}

impl Layout {
    /// The layout of the stack whose file is in `stack_dir` (nothing is created).
    pub fn new(stack_dir: &Path) -> Layout {
        let root = std::path::absolute(stack_dir).unwrap_or_else(|_| stack_dir.into());
        Layout {
            dev: root.join(".stackctl").join("dev"),
        }
    }

    /// Creates `.stackctl/dev` (mode 0700) and `.stackctl/.gitignore`.
    pub fn create(&self) -> Result<(), DevError> {
        let root = self.dev.parent().expect("dev has a parent");
        private_dir(&self.dev)?;
        let ignore = root.join(".gitignore");
        if !ignore.exists() {
            std::fs::write(
                &ignore,
                "# stackctl's local files: tokens, databases, logs.\n*\n",
            )
            .map_err(DevError::io("write", &ignore))?;
        }
        Ok(())
    }

    /// A short name for this project's directory, to tell its containers and clusters apart
    /// from other projects'.
    pub fn id(&self) -> String {
        use sha2::Digest;
        let hash = sha2::Sha256::digest(self.dev.as_os_str().as_encoded_bytes());
        hex::encode(&hash[..4])
    }

    pub fn tokens(&self) -> PathBuf {
        self.dev.join("tokens")
    }

    /// A service's working directory (where it may write files, as `/data` in the cloud).
    pub fn service(&self, name: &str) -> PathBuf {
        self.dev.join("services").join(name)
    }

    pub fn postgres(&self) -> PathBuf {
        self.dev.join("postgres")
    }

    pub fn sqlite(&self) -> PathBuf {
        self.dev.join("database.sqlite")
    }
}

/// A directory only the user can enter; an existing one is narrowed to 0700.
pub fn private_dir(path: &Path) -> Result<(), DevError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(DevError::io("create", path))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
        .map_err(DevError::io("set the permissions of", path))
}

/// Writes `contents` to a new file only the user can read; an existing file is kept.
pub fn write_private(path: &Path, contents: &str) -> Result<bool, DevError> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(mut f) => {
            f.write_all(contents.as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(DevError::io("write", path))?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(DevError::io("create", path)(e)),
    }
}

//! actionlint (scripts/services/actionlint.sh installs it), on workflow files.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The actionlint binary scripts/services/actionlint.sh installs.
pub fn actionlint() -> Option<String> {
    match std::env::var("STACKCTL_TEST_ACTIONLINT") {
        Ok(bin) => Some(bin),
        Err(_) if std::env::var_os("STACKCTL_TEST_REQUIRE_SERVICES").is_some() => {
            panic!("STACKCTL_TEST_ACTIONLINT is not set: run ./scripts/test.sh")
        }
        Err(_) => {
            eprintln!("skipped: no actionlint (run ./scripts/test.sh)");
            None
        }
    }
}

/// actionlint's verdict on `files`: success, and what it printed.
pub fn lint(bin: &str, dir: &Path, files: &[PathBuf]) -> (bool, String) {
    let out = Command::new(bin)
        .current_dir(dir)
        .arg("-no-color")
        .args(files)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

//! Target platforms of an image and whether this machine can compile for them.

use std::fmt;
use std::path::Path;
use std::process::Command;
use std::str::FromStr;

use super::error::{Error, Result};

/// An OCI platform the builder can produce, with the glibc Rust target used for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Platform {
    /// `linux/amd64`, built with `x86_64-unknown-linux-gnu`.
    #[default]
    LinuxAmd64,
    /// `linux/arm64` (variant v8), built with `aarch64-unknown-linux-gnu`.
    LinuxArm64,
}

impl Platform {
    /// Every platform the builder knows.
    pub const ALL: [Platform; 2] = [Platform::LinuxAmd64, Platform::LinuxArm64];

    /// The Rust target triple compiled for this platform.
    pub fn rust_target(self) -> &'static str {
        match self {
            Platform::LinuxAmd64 => "x86_64-unknown-linux-gnu",
            Platform::LinuxArm64 => "aarch64-unknown-linux-gnu",
        }
    }

    /// The OCI `architecture` value.
    pub fn architecture(self) -> &'static str {
        match self {
            Platform::LinuxAmd64 => "amd64",
            Platform::LinuxArm64 => "arm64",
        }
    }

    /// The OCI `variant` value, if the platform has one.
    pub fn variant(self) -> Option<&'static str> {
        match self {
            Platform::LinuxAmd64 => None,
            Platform::LinuxArm64 => Some("v8"),
        }
    }

    /// The platform of the machine running this code, if it is one the builder knows.
    pub fn host() -> Option<Platform> {
        match std::env::consts::ARCH {
            "x86_64" => Some(Platform::LinuxAmd64),
            "aarch64" => Some(Platform::LinuxArm64),
            _ => None,
        }
    }

    /// The C compiler used as linker when cross-compiling for this platform.
    fn cross_linker(self) -> &'static str {
        match self {
            Platform::LinuxAmd64 => "x86_64-linux-gnu-gcc",
            Platform::LinuxArm64 => "aarch64-linux-gnu-gcc",
        }
    }

    fn cross_linker_package(self) -> &'static str {
        match self {
            Platform::LinuxAmd64 => "gcc-x86-64-linux-gnu",
            Platform::LinuxArm64 => "gcc-aarch64-linux-gnu",
        }
    }

    /// Environment variable naming the linker for this target in cargo.
    pub(crate) fn linker_env(self) -> String {
        let triple = self.rust_target().to_uppercase().replace('-', "_");
        format!("CARGO_TARGET_{triple}_LINKER")
    }

    /// The linker to set for cargo when cross-compiling, `None` for a native build
    /// or when the user already chose one.
    pub(crate) fn linker_override(self) -> Option<&'static str> {
        let native = Platform::host() == Some(self);
        (!native && std::env::var_os(self.linker_env()).is_none()).then(|| self.cross_linker())
    }

    /// Checks that the Rust standard library for this platform is installed (and a
    /// cross linker when not building natively); the error says what to install.
    pub fn ensure_available(self, package_dir: &Path) -> Result<()> {
        let unavailable = |hint: String| Error::PlatformUnavailable {
            platform: self.to_string(),
            hint,
        };
        if !std_installed(self, package_dir) {
            return Err(unavailable(format!(
                "{self} needs `rustup target add {}` (its standard library is not installed)",
                self.rust_target()
            )));
        }
        if let Some(linker) = self.linker_override()
            && !on_path(linker)
        {
            return Err(unavailable(format!(
                "{self} needs the cross linker `{linker}` (`apt-get install {}`) or {} set",
                self.cross_linker_package(),
                self.linker_env()
            )));
        }
        Ok(())
    }

    /// The platforms this machine can build for now (standard library and linker present).
    pub fn detect_available(package_dir: &Path) -> Vec<Platform> {
        Platform::ALL
            .into_iter()
            .filter(|p| p.ensure_available(package_dir).is_ok())
            .collect()
    }
}

/// Asks rustc (as cargo would run it in `dir`, honouring rust-toolchain files) where the
/// target's libraries live, and checks that they are there.
fn std_installed(platform: Platform, dir: &Path) -> bool {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc)
        .current_dir(dir)
        .args([
            "--print",
            "target-libdir",
            "--target",
            platform.rust_target(),
        ])
        .output();
    let Ok(out) = out else { return false };
    let libdir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    out.status.success()
        && std::fs::read_dir(&libdir)
            .map(|entries| {
                entries.flatten().any(|e| {
                    let name = e.file_name();
                    let name = name.to_string_lossy();
                    name.starts_with("libstd-") && name.ends_with(".rlib")
                })
            })
            .unwrap_or(false)
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "linux/{}", self.architecture())
    }
}

impl FromStr for Platform {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "linux/amd64" | "amd64" | "x86_64" => Ok(Platform::LinuxAmd64),
            "linux/arm64" | "linux/arm64/v8" | "arm64" | "aarch64" => Ok(Platform::LinuxArm64),
            other => Err(Error::PlatformUnavailable {
                platform: other.to_string(),
                hint: "unknown platform; use linux/amd64 or linux/arm64".to_string(),
            }),
        }
    }
}

//! `stackctl ci github`: writes the repository's plan and deploy workflows for stack.yaml's
//! `ci.github` (`crate::ci`), keeping any a person changed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{Failure, load, partition, region, stack_dir};
use crate::aws::Aws;
use crate::ci::files::{Written, write};
use crate::ci::github::{Repo, workflows};
use crate::cli::{CiArgs, CiGithubArgs, CiKind, Cli};
use crate::config::Source;
use crate::names::DEFAULT_ENV;

const COMMAND: &str = "stackctl ci github";

pub async fn run(cli: &Cli, args: &CiArgs) -> Result<ExitCode, Failure> {
    match &args.ci {
        CiKind::Github(a) => github(cli, a).await,
    }
}

async fn github(cli: &Cli, args: &CiGithubArgs) -> Result<ExitCode, Failure> {
    let stack = load(cli)?;
    let Some(gh) = &stack.ci else {
        return Err(Failure::Other {
            message: format!(
                "{} has no `ci:`: there is no role for GitHub's workflows to deploy with",
                cli.file.display()
            ),
            hint: Some(
                "add `ci: { github: { repository: OWNER/NAME } }`, run `stackctl up` (it makes the roles), then this again".into(),
            ),
        });
    };
    let (conf, region) = region(cli, &stack).await?;
    let account = match &args.account {
        Some(a) if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) => a.clone(),
        Some(a) => {
            return Err(Failure::Usage(format!(
                "--account {a:?} is not an AWS account ID (12 digits)"
            )));
        }
        None => {
            let aws = Aws::with_region(&conf, &region)?;
            aws.identity().await.map_err(|e| Failure::Other {
                message: format!("the workflows name the roles by account, and {e}"),
                hint: Some(
                    "pass --account 123456789012, or run with the credentials you run `stackctl up` with".into(),
                ),
            })?
            .account
        }
    };
    let dir = stack_dir(cli);
    let here = dir.canonicalize().map_err(|e| Failure::Other {
        message: format!("read {}: {e}", dir.display()),
        hint: None,
    })?;
    let (root, found) = match repository_root(&here) {
        Some(root) => (root, true),
        None => (here.clone(), false),
    };
    let mut packages = std::collections::BTreeSet::new();
    for (name, s) in &stack.services {
        let Source::Build(p) = &s.source else {
            continue;
        };
        let Ok(package) = here.join(p).canonicalize() else {
            continue;
        };
        // The runner checks out this repository only.
        if !package.starts_with(&root) {
            return Err(Failure::Other {
                message: format!(
                    "service `{name}` builds {}, outside the repository at {}{}: GitHub's runner would not have it",
                    package.display(),
                    root.display(),
                    if found {
                        ""
                    } else {
                        " (no .git found above it: the stack's directory stands for the repository)"
                    }
                ),
                hint: Some(format!(
                    "move the package into the repository (and `build:` to it), or publish its image and write `image:` for `{name}`"
                )),
            });
        }
        packages.insert(relative(&package, &root));
    }
    let file = cli.file.file_name().and_then(|f| f.to_str());
    let repo = Repo {
        stack: &stack,
        github: gh,
        env: cli.env.as_deref().filter(|e| *e != DEFAULT_ENV),
        file: file.filter(|f| *f != "stack.yaml"),
        dir: relative(&here, &root),
        packages: packages.into_iter().collect(),
        account: &account,
        partition: partition(&region),
        region: &region,
    };
    let mut kept = Vec::new();
    for f in workflows(&repo) {
        let shown = f.path.display().to_string();
        let outcome = write(&root, &f, COMMAND, args.force).map_err(|e| Failure::Other {
            message: format!("write {shown}: {e}"),
            hint: None,
        })?;
        let said = match outcome {
            Written::Created => "created",
            Written::Updated => "updated",
            Written::Unchanged => "unchanged",
            Written::Replaced => "replaced (your changes to it are gone: --force)",
            Written::Kept => {
                kept.push(shown.clone());
                "kept: changed since stackctl wrote it"
            }
        };
        println!("{shown}: {said}");
    }
    if !kept.is_empty() {
        return Err(Failure::Other {
            message: format!(
                "left {} as someone changed {}: the roles or the release they name may be out of date",
                kept.join(" and "),
                if kept.len() == 1 { "it" } else { "them" }
            ),
            hint: Some(format!(
                "move your changes aside and run `{COMMAND}` again, or `{COMMAND} --force` to replace them"
            )),
        });
    }
    let deploys = match &gh.environment {
        Some(e) => {
            // The role then trusts the environment, not a branch (GitHub Docs, "OpenID Connect
            // reference": the environment's subject): its rules are the branch check.
            println!(
                "warning: the deploy role trusts any job in the environment `{e}`: in the repository's Settings → Environments → {e}, limit its deployment branches to `{}` (and add reviewers if you want them)",
                gh.branch
            );
            format!("jobs in the GitHub environment `{e}`")
        }
        None => format!("pushes to `{}`", gh.branch),
    };
    println!(
        "Pull requests to `{}` now plan, and {deploys} deploy, once `stackctl up{}` has made the roles and these files are pushed.",
        gh.branch,
        repo.env.map(|e| format!(" --env {e}")).unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

/// The repository `dir` is in: the nearest directory up with `.git`.
fn repository_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// `path` relative to `base` (both canonical), `/`-separated; empty when the same.
fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_else(|_| path.to_string_lossy().into_owned())
}

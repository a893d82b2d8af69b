//! `ci.github:`: the repository, branch and GitHub environment the deploy role trusts. Each
//! goes into the `sub` condition of an IAM trust policy as it is written (StringEquals), so
//! it is checked here as GitHub and git would take it: a name they refuse could never match.

use marked_yaml::Spanned;

use super::error::Issues;
use super::file::GitHubFile;
use super::model::GitHub;

pub const DEFAULT_BRANCH: &str = "main";

pub(super) fn github(f: &GitHubFile, issues: &mut Issues) -> Option<GitHub> {
    let before = issues.list.len();
    if let Err(why) = repository(&f.repository) {
        issues.at(
            f.repository.span(),
            format!("ci.github.repository `{}` {why}", *f.repository),
            Some("write it as GitHub shows it: `owner/name`, e.g. `octo-org/shop`; a repository made after 18 June 2026 takes its IDs too, `octo-org@123456/shop@456789` (`gh api repos/OWNER/NAME` shows `owner.id` and `id`)".into()),
        );
    }
    let branch = f
        .branch
        .as_ref()
        .map_or(DEFAULT_BRANCH.to_string(), |b| b.to_string());
    if let Some(b) = &f.branch
        && let Err(why) = branch_name(b)
    {
        issues.at(
            b.span(),
            format!("ci.github.branch `{}` {why}", **b),
            Some("the branch name alone, as `git branch` shows it, e.g. `main`".into()),
        );
    }
    if let Some(e) = &f.environment
        && let Err(why) = environment(e)
    {
        issues.at(
            e.span(),
            format!("ci.github.environment `{}` {why}", **e),
            Some("the name of an environment of the repository (Settings → Environments), e.g. `production`".into()),
        );
    }
    (issues.list.len() == before).then(|| GitHub {
        repository: f.repository.to_string(),
        branch,
        environment: f.environment.as_ref().map(|e| e.to_string()),
    })
}

/// GitHub: an owner is 1 to 39 letters, digits or single hyphens, not at either end; a
/// repository name 1 to 100 letters, digits, `.`, `-`, `_`, and not `.` or `..`. Each may carry
/// its immutable numeric ID after `@`, as the `sub` claim of repositories created after
/// 18 June 2026 (or opted in) does (GitHub Docs, "OpenID Connect reference", immutable
/// subject claims): both or neither.
fn repository<'a>(s: &'a Spanned<String>) -> Result<(), &'static str> {
    let Some((owner, name)) = s.split_once('/') else {
        return Err("is not `owner/name`");
    };
    let split = |part: &'a str| -> Result<(&'a str, bool), &'static str> {
        match part.split_once('@') {
            None => Ok((part, false)),
            Some((n, id)) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => {
                Ok((n, true))
            }
            Some(_) => Err("has an `@` not followed by a numeric ID (`owner@ID/name@ID`)"),
        }
    };
    let ((owner, owner_id), (name, name_id)) = (split(owner)?, split(name)?);
    if owner_id != name_id {
        return Err(
            "has the immutable ID of one of owner and name only: give both (`owner@ID/name@ID`) or neither",
        );
    }
    let owner_ok = (1..=39).contains(&owner.len())
        && owner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !owner.starts_with('-')
        && !owner.ends_with('-')
        && !owner.contains("--");
    if !owner_ok {
        return Err(
            "has an owner GitHub refuses (1 to 39 letters, digits or single hyphens, not at either end)",
        );
    }
    let name_ok = (1..=100).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && name != "."
        && name != "..";
    if !name_ok {
        return Err(
            "has a name GitHub refuses (1 to 100 letters, digits, `.`, `-` or `_`; one `/`)",
        );
    }
    Ok(())
}

/// git check-ref-format's rules for a branch (`refs/heads/<name>`).
fn branch_name(s: &str) -> Result<(), &'static str> {
    if s.is_empty() || s.len() > 255 {
        return Err("must be 1 to 255 characters");
    }
    if s.starts_with("refs/") {
        return Err("is a ref, not a branch name: leave `refs/heads/` out");
    }
    let bad_char = s
        .chars()
        .any(|c| c.is_control() || c == ' ' || "~^:?*[\\".contains(c));
    if bad_char {
        return Err("has a character git refuses in branch names (space, ~ ^ : ? * [ \\)");
    }
    // GitHub's branch filters read these as a pattern (Workflow syntax, "Filter pattern cheat
    // sheet"): the workflow could then run for other branches than the role trusts.
    if s.contains(['+', '!', ']', ',', '"', '\'', '#', '{', '}', '$']) {
        return Err(
            "has a character GitHub's branch filters read as a pattern or YAML as syntax (+ ! ] , \" ' # { } $)",
        );
    }
    let bad_shape = s.contains("..")
        || s.contains("@{")
        || s.contains("//")
        || s.starts_with(['-', '/', '.'])
        || s.ends_with(['/', '.'])
        || s.ends_with(".lock")
        || s.split('/').any(|part| part.starts_with('.'))
        || s == "@";
    if bad_shape {
        return Err("is not a name git accepts for a branch (see `git check-ref-format --branch`)");
    }
    Ok(())
}

/// GitHub: at most 255 characters; the name is the last field of the `sub` claim.
fn environment(s: &str) -> Result<(), &'static str> {
    if s.trim().is_empty() || s.len() > 255 {
        return Err("must be 1 to 255 characters");
    }
    if s.trim() != s || s.chars().any(char::is_control) {
        return Err("has spaces at an end or control characters");
    }
    if s.contains(['*', '?']) {
        return Err("has `*` or `?`: the role trusts one environment, named exactly");
    }
    if s.contains(['"', '\'', '#', '{', '}', '$', ':', '\\']) {
        return Err("has a character the workflow's YAML would read as syntax (\" ' # { } $ : \\)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    fn parse(extra: &str) -> Result<crate::config::Stack, crate::config::ConfigError> {
        crate::config::parse_with(extra, None)
    }

    #[test]
    fn ci_names_the_subjects_the_roles_trust() {
        let s = parse("ci:\n  github: { repository: octo-org/shop }\n").unwrap();
        let g = s.ci.unwrap();
        assert_eq!(g.deploy_subject(), "repo:octo-org/shop:ref:refs/heads/main");
        assert_eq!(g.plan_subject(), "repo:octo-org/shop:pull_request");
        let s = parse(
            "ci:\n  github: { repository: o/r.rs, branch: release/v2, environment: production }\n",
        )
        .unwrap();
        let g = s.ci.unwrap();
        assert_eq!(g.branch, "release/v2");
        assert_eq!(g.deploy_subject(), "repo:o/r.rs:environment:production");
        // Immutable subject claims: the IDs go into every subject as written.
        let s = parse("ci:\n  github: { repository: octo@123456/shop@456789 }\n").unwrap();
        assert_eq!(
            s.ci.unwrap().deploy_subject(),
            "repo:octo@123456/shop@456789:ref:refs/heads/main"
        );
        assert!(parse("").unwrap().ci.is_none());
    }

    #[test]
    fn a_name_github_or_git_refuses_is_an_error_on_its_line() {
        for (yaml, says) in [
            (
                "ci:\n  github: { repository: shop }\n",
                "is not `owner/name`",
            ),
            (
                "ci:\n  github: { repository: -octo/shop }\n",
                "has an owner GitHub refuses",
            ),
            (
                "ci:\n  github: { repository: octo/sh op }\n",
                "has a name GitHub refuses",
            ),
            (
                "ci:\n  github: { repository: o/r, branch: 'a..b' }\n",
                "is not a name git accepts",
            ),
            (
                "ci:\n  github: { repository: o/r, branch: refs/heads/main }\n",
                "leave `refs/heads/` out",
            ),
            (
                "ci:\n  github: { repository: o/r, branch: 'x y' }\n",
                "has a character git refuses",
            ),
            (
                "ci:\n  github: { repository: o/r, branch: main.lock }\n",
                "is not a name git accepts",
            ),
            (
                "ci:\n  github: { repository: o/r, environment: 'prod*' }\n",
                "named exactly",
            ),
            ("ci:\n  github: { repo: o/r }\n", "unknown key `repo`"),
        ] {
            let e = parse(yaml).unwrap_err();
            let text = format!("{e:?}");
            assert!(text.contains(says), "{yaml}: {text}");
            assert!(text.contains("line: 8"), "{yaml}: {text}");
        }
    }

    #[test]
    fn an_environment_overlay_may_change_who_deploys() {
        let yaml = "ci:\n  github: { repository: o/r }\nenvironments:\n  prod: { ci: { github: { repository: o/r, environment: production } } }\n";
        let s = crate::config::parse_with(yaml, Some("prod")).unwrap();
        assert_eq!(s.ci.unwrap().environment.as_deref(), Some("production"));
    }
}

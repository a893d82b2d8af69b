//! The two workflows `stackctl ci github` writes: on a pull request to the deploy branch,
//! test, then `stackctl plan` with the plan role (a job summary and one comment kept up to
//! date); on a push to it, test, then `stackctl up` with the deploy role, one deploy at a
//! time, the URL as the job's output. Credentials come from GitHub's OIDC token through
//! `aws-actions/configure-aws-credentials`: nothing is stored in the repository.

use std::path::PathBuf;

use super::files::File;
use super::{CACHE, CHECKOUT, CHECKSUMS, CONFIGURE_AWS, GITHUB_SCRIPT, REPOSITORY, VERSION};
use crate::config::{GitHub, Stack};

/// What the workflows are made from.
pub struct Repo<'a> {
    pub stack: &'a Stack,
    pub github: &'a GitHub,
    /// The environment overlay, when not the default one.
    pub env: Option<&'a str>,
    /// stack.yaml's name when not `stack.yaml`.
    pub file: Option<&'a str>,
    /// stack.yaml's directory relative to the repository's root (empty: the root).
    pub dir: String,
    /// The Cargo packages `up` builds, relative to the repository's root.
    pub packages: Vec<String>,
    pub account: &'a str,
    pub partition: &'a str,
    pub region: &'a str,
}

impl Repo<'_> {
    fn role(&self, role: &str) -> String {
        let n = self.stack.names();
        format!(
            "arn:{}:iam::{}:role{}{}",
            self.partition,
            self.account,
            n.ci_path(),
            n.ci_role(role)
        )
    }

    /// ` --env prod --file other.yaml`, as each stackctl command here takes them.
    fn flags(&self) -> String {
        let mut f = String::new();
        if let Some(e) = self.env {
            f.push_str(&format!(" --env {e}"));
        }
        if let Some(file) = self.file {
            f.push_str(&format!(" --file {file}"));
        }
        f
    }

    /// The files' names: one pair per environment.
    fn name(&self, what: &str) -> PathBuf {
        let suffix = self.env.map(|e| format!("-{e}")).unwrap_or_default();
        PathBuf::from(format!(".github/workflows/stackctl-{what}{suffix}.yml"))
    }

    fn fill(&self, template: &str) -> String {
        let env = self.env.unwrap_or("default");
        let label = self.env.map(|e| format!(" ({e})")).unwrap_or_default();
        // Values from stack.yaml and paths go in quoted (a JSON string is a YAML one).
        let quoted = |v: &str| serde_json::to_string(v).expect("a string serializes");
        let defaults = if self.dir.is_empty() {
            String::new()
        } else {
            format!(
                "defaults:\n  run:\n    working-directory: {}\n",
                quoted(&self.dir)
            )
        };
        let environment = match &self.github.environment {
            None => String::new(),
            Some(e) => format!(
                "    environment:\n      name: {}\n      url: ${{{{ steps.up.outputs.url }}}}\n",
                quoted(e)
            ),
        };
        template
            .replace("@TEST@", &self.test_job())
            .replace(
                "@NEEDS@",
                if self.packages.is_empty() {
                    ""
                } else {
                    "    needs: test\n"
                },
            )
            .replace("@INSTALL@", INSTALL)
            .replace(
                "@WHY_PLAN@",
                &WHY_REFUSED.replace("@TRUSTED@", &quoted(&self.github.plan_subject())),
            )
            .replace(
                "@WHY_DEPLOY@",
                &WHY_REFUSED.replace("@TRUSTED@", &quoted(&self.github.deploy_subject())),
            )
            .replace(
                "@ASSET@",
                &super::asset(VERSION, "$(uname -m)-unknown-linux-musl"),
            )
            .replace(
                "@BASE@",
                &format!("{REPOSITORY}/releases/download/v{VERSION}"),
            )
            .replace("@CHECKSUMS@", CHECKSUMS)
            .replace("@VERSION@", VERSION)
            .replace("@CHECKOUT@", CHECKOUT)
            .replace("@CACHE@", CACHE)
            .replace("@CONFIGURE_AWS@", CONFIGURE_AWS)
            .replace("@GITHUB_SCRIPT@", GITHUB_SCRIPT)
            .replace("@DEFAULTS@", &defaults)
            .replace("@ENVIRONMENT@", &environment)
            .replace("@DEPLOY_ROLE@", &self.role("deploy"))
            .replace("@PLAN_ROLE@", &self.role("plan"))
            .replace("@REGION@", self.region)
            .replace("@BRANCH@", &quoted(&self.github.branch))
            .replace("@STACK@", &self.stack.name)
            .replace("@ENV@", env)
            .replace("@LABEL@", &label)
            .replace("@FLAGS@", &self.flags())
    }

    /// Tests of the packages `up` builds (none when every service runs a prebuilt image).
    fn test_job(&self) -> String {
        if self.packages.is_empty() {
            return String::new();
        }
        let steps: String = self
            .packages
            .iter()
            .map(|p| {
                format!(
                    "      - run: cargo test --manifest-path \"$GITHUB_WORKSPACE/{p}/Cargo.toml\"\n"
                )
            })
            .collect();
        TEST.replace("@STEPS@", &steps)
    }
}

/// The plan and deploy workflows for this stack and environment.
pub fn workflows(r: &Repo<'_>) -> Vec<File> {
    vec![
        File {
            path: r.name("plan"),
            body: r.fill(PLAN),
        },
        File {
            path: r.name("deploy"),
            body: r.fill(DEPLOY),
        },
    ]
}

const TEST: &str = r#"  test:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
      - uses: @CHECKOUT@
      - uses: @CACHE@
        with:
          path: |
            ~/.cargo/registry
            ~/.cargo/git
            target
          key: cargo-${{ runner.os }}-${{ hashFiles('**/Cargo.lock') }}
          restore-keys: cargo-${{ runner.os }}-
@STEPS@"#;

/// stackctl's release for this runner, checked against the release's checksums.
pub const INSTALL: &str = r#"      - name: Install stackctl @VERSION@
        env:
          BASE: @BASE@
        run: |
          asset="@ASSET@"
          curl -fsSLO "$BASE/$asset"
          curl -fsSL "$BASE/@CHECKSUMS@" | grep -F " $asset" | sha256sum --check --strict
          mkdir -p "$HOME/.local/bin"
          tar -xzf "$asset" -C "$HOME/.local/bin" stackctl
          echo "$HOME/.local/bin" >> "$GITHUB_PATH"
"#;

/// When the role refuses the job's token: the subject the token carries next to the one the
/// role trusts (GitHub's own pages disagree on how immutable IDs are written in it). The
/// claims are decoded from the token, never printed whole.
pub const WHY_REFUSED: &str = r#"      - name: The token's subject, if the role refused it
        if: failure() && steps.aws.outcome == 'failure'
        env:
          TRUSTED: @TRUSTED@
        run: |
          token="$(curl -fsS -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=sts.amazonaws.com" | jq -r .value)"
          if [ -z "$token" ] || [ "$token" = null ]; then echo "::error::GitHub gave this job no OIDC token: the job needs permissions: id-token: write"; exit 1; fi
          claims="$(printf '%s' "$token" | cut -d. -f2 | tr '_-' '/+')"
          while [ $((${#claims} % 4)) -ne 0 ]; do claims="$claims="; done
          sub="$(printf '%s' "$claims" | base64 -d | jq -r .sub)"
          echo "::error::the role trusts sub=$TRUSTED, this job's token has sub=$sub: if they differ, write ci.github in stack.yaml as the token has it and run stackctl up with administrator credentials"
"#;

const PLAN: &str = r#"name: stackctl plan@LABEL@
on:
  pull_request:
    branches: [@BRANCH@]
permissions:
  contents: read
concurrency:
  group: stackctl-plan-@STACK@-@ENV@-${{ github.event.pull_request.number }}
  cancel-in-progress: true
@DEFAULTS@jobs:
@TEST@  plan:
@NEEDS@    # A pull request from a fork gets no token this repository's role trusts.
    if: github.event.pull_request.head.repo.full_name == github.repository
    runs-on: ubuntu-latest
    timeout-minutes: 15
    permissions:
      contents: read
      id-token: write # GitHub's OIDC token, exchanged for the plan role (reads only)
      pull-requests: write # the plan as a comment
    steps:
      - uses: @CHECKOUT@
@INSTALL@      - uses: @CONFIGURE_AWS@
        id: aws
        with:
          role-to-assume: @PLAN_ROLE@
          aws-region: @REGION@
          role-session-name: stackctl-plan-${{ github.run_id }}
@WHY_PLAN@      - name: stackctl plan
        run: |
          set -o pipefail
          stackctl plan@FLAGS@ 2>&1 | tee "$RUNNER_TEMP/plan.txt"
          {
            echo '### stackctl plan@LABEL@'
            echo '```'
            cat "$RUNNER_TEMP/plan.txt"
            echo '```'
          } >> "$GITHUB_STEP_SUMMARY"
      - name: Comment the plan
        uses: @GITHUB_SCRIPT@
        env:
          MARKER: "<!-- stackctl plan @STACK@/@ENV@ -->"
        with:
          script: |
            const fs = require('fs');
            const marker = process.env.MARKER;
            const plan = fs.readFileSync(`${process.env.RUNNER_TEMP}/plan.txt`, 'utf8');
            const body = `${marker}\n### stackctl plan@LABEL@\n\`\`\`\n${plan}\n\`\`\``;
            const { owner, repo } = context.repo;
            const issue_number = context.issue.number;
            const comments = await github.paginate(github.rest.issues.listComments, { owner, repo, issue_number });
            const mine = comments.find((c) => c.body && c.body.startsWith(marker));
            if (mine) {
              await github.rest.issues.updateComment({ owner, repo, comment_id: mine.id, body });
            } else {
              await github.rest.issues.createComment({ owner, repo, issue_number, body });
            }
"#;

const DEPLOY: &str = r#"name: stackctl deploy@LABEL@
on:
  push:
    branches: [@BRANCH@]
  workflow_dispatch:
permissions:
  contents: read
# One deploy of this stack at a time: a newer push waits for the running one.
concurrency:
  group: stackctl-deploy-@STACK@-@ENV@
  cancel-in-progress: false
@DEFAULTS@jobs:
@TEST@  deploy:
@NEEDS@    runs-on: ubuntu-latest
    timeout-minutes: 60
@ENVIRONMENT@    permissions:
      contents: read
      id-token: write # GitHub's OIDC token, exchanged for the deploy role
    outputs:
      url: ${{ steps.up.outputs.url }}
    steps:
      - uses: @CHECKOUT@
@INSTALL@      - uses: @CONFIGURE_AWS@
        id: aws
        with:
          role-to-assume: @DEPLOY_ROLE@
          aws-region: @REGION@
          role-session-name: stackctl-deploy-${{ github.run_id }}
@WHY_DEPLOY@      - name: stackctl up
        id: up
        run: |
          stackctl up@FLAGS@
          url="$(stackctl status@FLAGS@ -o json | jq -r '.url // empty')"
          echo "url=$url" >> "$GITHUB_OUTPUT"
          echo "Deployed to $url" >> "$GITHUB_STEP_SUMMARY"
"#;

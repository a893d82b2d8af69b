//! Errors in stack.yaml: each names the file, line and column, what is wrong and a fix.

use std::path::PathBuf;

use marked_yaml::{Marker, Span};
use miette::{Diagnostic, NamedSource, SourceSpan};

/// One problem at one place in the file.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ConfigIssue {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    #[help]
    pub hint: Option<String>,
    #[source_code]
    src: NamedSource<String>,
    #[label("here")]
    span: SourceSpan,
}

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum ConfigError {
    #[error("read {}: {source}", path.display())]
    #[diagnostic(help("create a stack.yaml (see the README for an example) or pass --file PATH"))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is invalid ({} problem{})", path.display(), issues.len(), if issues.len() == 1 { "" } else { "s" })]
    Invalid {
        path: PathBuf,
        #[related]
        issues: Vec<ConfigIssue>,
    },
    #[error("unknown environment `{name}` in {}", path.display())]
    UnknownEnvironment {
        path: PathBuf,
        name: String,
        #[help]
        hint: String,
    },
}

impl ConfigError {
    pub fn issues(&self) -> &[ConfigIssue] {
        match self {
            ConfigError::Invalid { issues, .. } => issues,
            _ => &[],
        }
    }
}

/// Collects issues against one source text.
pub struct Issues<'a> {
    file: String,
    text: &'a str,
    pub list: Vec<ConfigIssue>,
}

impl<'a> Issues<'a> {
    pub fn new(file: String, text: &'a str) -> Self {
        Issues {
            file,
            text,
            list: Vec::new(),
        }
    }

    pub fn at_marker(
        &mut self,
        mark: Option<Marker>,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        let (line, column, chars) = mark
            .map(|m| (m.line(), m.column(), m.character()))
            .unwrap_or((1, 1, 0));
        let offset = self
            .text
            .char_indices()
            .nth(chars)
            .map(|(i, _)| i)
            .unwrap_or(self.text.len());
        let len = self.text[offset..]
            .find(['\n', ',', '}'])
            .unwrap_or(0)
            .max(1);
        let issue = ConfigIssue {
            file: self.file.clone(),
            line,
            column,
            message: message.into(),
            hint,
            src: NamedSource::new(self.file.clone(), self.text.to_string()),
            span: SourceSpan::new(
                offset.into(),
                len.min(self.text.len().saturating_sub(offset)),
            ),
        };
        // Overlays validate the same base lines again: report each place once.
        if !self
            .list
            .iter()
            .any(|i| i.line == issue.line && i.column == issue.column && i.message == issue.message)
        {
            self.list.push(issue);
        }
    }

    /// The scalar written at `mark` (for messages that quote the bad value).
    pub fn token_at(&self, mark: Option<Marker>) -> String {
        let chars = mark.map(|m| m.character()).unwrap_or(0);
        let rest: String = self
            .text
            .chars()
            .skip(chars)
            .take_while(|c| !matches!(c, '\n' | ',' | '}' | '#'))
            .collect();
        rest.trim().trim_matches(['"', '\'']).to_string()
    }

    pub fn at(&mut self, span: &Span, message: impl Into<String>, hint: Option<String>) {
        self.at_marker(span.start().copied(), message, hint);
    }
}

/// "did you mean `x`?" for a misspelt key or name.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

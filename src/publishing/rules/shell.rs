//! Commands inside a `run:` block or a GitLab script line, well enough to recognise a publish
//! and its flags and inline variables: lines (with `\` continuations) split at `&&`, `||`, `;`
//! and `|`, words split at white space with quotes removed. Not a shell: what it cannot read it
//! leaves out, and a rule that needs certainty says so.

/// One simple command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// 0-based line within the script text where the command starts.
    pub line: usize,
    /// `NAME=value` assignments before the program.
    pub env: Vec<(String, String)>,
    /// The program and its arguments (after `sudo`, `env`, `time`, `exec`).
    pub argv: Vec<String>,
}

impl Command {
    /// True when the argument (or `ARG=…`) is present.
    pub fn has_flag(&self, flag: &str) -> bool {
        self.argv
            .iter()
            .any(|a| a == flag || a.strip_prefix(flag).is_some_and(|r| r.starts_with('=')))
    }

    /// The value of `--flag VALUE` or `--flag=VALUE`.
    pub fn flag_value(&self, flag: &str) -> Option<&str> {
        let mut it = self.argv.iter();
        while let Some(a) = it.next() {
            if a == flag {
                return it.next().map(String::as_str);
            }
            if let Some(v) = a.strip_prefix(flag).and_then(|r| r.strip_prefix('=')) {
                return Some(v);
            }
        }
        None
    }

    /// The words that are not flags, in order.
    pub fn words(&self) -> Vec<&str> {
        self.argv
            .iter()
            .map(String::as_str)
            .filter(|a| !a.starts_with('-'))
            .collect()
    }
}

/// The commands of a script.
pub fn commands(script: &str) -> Vec<Command> {
    let mut out = Vec::new();
    let mut logical = String::new();
    let mut start = 0;
    for (i, line) in script.lines().enumerate() {
        if logical.is_empty() {
            start = i;
        }
        let trimmed = line.trim_end();
        if let Some(body) = trimmed.strip_suffix('\\') {
            logical.push_str(body);
            logical.push(' ');
            continue;
        }
        logical.push_str(trimmed);
        split_line(&logical, start, &mut out);
        logical.clear();
    }
    if !logical.is_empty() {
        split_line(&logical, start, &mut out);
    }
    out
}

fn split_line(line: &str, at: usize, out: &mut Vec<Command>) {
    let code = strip_comment(line);
    for part in split_operators(code) {
        let words = words(&part);
        let mut env = Vec::new();
        let mut rest = words.as_slice();
        loop {
            match rest.first() {
                Some(w) if is_assignment(w) => {
                    let (k, v) = w.split_once('=').unwrap_or((w, ""));
                    env.push((k.to_string(), v.to_string()));
                    rest = &rest[1..];
                }
                Some(w) if matches!(w.as_str(), "sudo" | "env" | "time" | "exec" | "command") => {
                    rest = &rest[1..];
                }
                _ => break,
            }
        }
        if rest.is_empty() && env.is_empty() {
            continue;
        }
        out.push(Command {
            line: at,
            env,
            argv: rest.to_vec(),
        });
    }
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(k, _)| {
        !k.is_empty()
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !k.starts_with(|c: char| c.is_ascii_digit())
    })
}

fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    let mut prev_space = true;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if prev_space => return &line[..i],
            _ => {}
        }
        prev_space = c.is_whitespace();
    }
    line
}

/// Split at `&&`, `||`, `;`, `|` and `&` outside quotes.
fn split_operators(line: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quote = None;
    for c in line.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                current.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                current.push(c);
            }
            (None, ';' | '|' | '&') => {
                if !current.trim().is_empty() {
                    parts.push(std::mem::take(&mut current));
                }
                current.clear();
            }
            _ => current.push(c),
        }
    }
    if !current.trim().is_empty() {
        parts.push(current);
    }
    parts
}

fn words(part: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote = None;
    let mut any = false;
    for c in part.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if any || !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
                any = false;
            }
            (None, '(' | ')' | '{' | '}') if current.is_empty() => {}
            _ => current.push(c),
        }
    }
    if any || !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_commands_env_and_flags() {
        let cmds = commands(
            "npm ci\nNODE_AUTH_TOKEN=\"$T\" npm publish --provenance --access public && echo ok # done\n\
             cargo +stable publish \\\n  --locked\nsudo -E twine upload dist/*",
        );
        assert_eq!(cmds.len(), 5, "{cmds:?}");
        assert_eq!(cmds[1].env, [("NODE_AUTH_TOKEN".into(), "$T".into())]);
        assert_eq!(cmds[1].argv[..2], ["npm", "publish"]);
        assert!(cmds[1].has_flag("--provenance"));
        assert_eq!(cmds[1].flag_value("--access"), Some("public"));
        assert_eq!(cmds[2].argv, ["echo", "ok"]);
        assert_eq!(cmds[3].line, 2);
        assert_eq!(cmds[3].words(), ["cargo", "+stable", "publish"]);
        assert_eq!(cmds[4].argv[..3], ["-E", "twine", "upload"]);
        assert_eq!(commands("# only a comment\n\n").len(), 0);
    }
}

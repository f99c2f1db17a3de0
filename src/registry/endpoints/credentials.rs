//! Credentials: the secrets provscan may send, each bound to the one host (and path) it was
//! written for, and never shown.
//!
//! - npm tokens (`//host/path/:_authToken=`): `Authorization: Bearer …`, to URLs under that
//!   exact host, port and path;
//! - user names and passwords in a PyPI index URL (`https://user:pw@host/simple`) and in the
//!   user's `.netrc` (`machine HOST login U password P`, pip's and uv's way to authenticate to a
//!   mirror): `Authorization: Basic …`, to that host only (an index URL's: with its port, as pip
//!   matches credentials by network location; a `.netrc` machine's: any port, as pip and uv
//!   do); `.netrc`'s `default` entry names no host and is never used;
//! - cargo registry tokens (`[registries.NAME] token`, `credentials.toml`,
//!   `CARGO_REGISTRIES_NAME_TOKEN`): sent verbatim as cargo does, to URLs under that registry's
//!   own root.
//!
//! A [`Token`]'s `Debug` is redacted, so no log or debug dump prints one.

use std::fmt;

use url::Url;

/// How a secret is presented in the `Authorization` header.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scheme {
    /// `Bearer SECRET` (npm).
    Bearer,
    /// `Basic base64(user:password)` (pip, uv, `.netrc`).
    Basic,
    /// `SECRET` as is (cargo).
    Raw,
}

/// A secret that never shows up in logs or debug output.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    secret: String,
    scheme: Scheme,
}

impl Token {
    /// An npm-style bearer token.
    pub fn bearer(secret: impl Into<String>) -> Token {
        Token {
            secret: secret.into(),
            scheme: Scheme::Bearer,
        }
    }

    /// HTTP basic credentials.
    pub fn basic(user: &str, password: &str) -> Token {
        Token {
            secret: format!("{user}:{password}"),
            scheme: Scheme::Basic,
        }
    }

    /// A token sent as the whole header value (cargo's registries).
    pub fn raw(secret: impl Into<String>) -> Token {
        Token {
            secret: secret.into(),
            scheme: Scheme::Raw,
        }
    }

    /// The secret (`user:password` for basic credentials), for tests and the header only.
    pub fn expose(&self) -> &str {
        &self.secret
    }

    /// The `Authorization` header value.
    pub fn authorization(&self) -> String {
        use base64::Engine;
        match self.scheme {
            Scheme::Bearer => format!("Bearer {}", self.secret),
            Scheme::Basic => format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(&self.secret)
            ),
            Scheme::Raw => self.secret.clone(),
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// Where a credential may be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    /// URLs whose `//host[:port]/path` starts with this (`//host[:port]/path/`).
    Prefix(String),
    /// Any URL on this host (lower case, no port): a `.netrc` machine.
    Host(String),
}

/// One credential and where it may go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// Where it may be sent.
    pub bound: Bound,
    /// The secret.
    pub token: Token,
    /// Where it was read (a file or an environment variable), for `explain`.
    pub from: String,
}

/// `//host[:port]/path` of a URL: what [`Bound::Prefix`] compares.
pub fn target(url: &Url) -> Option<String> {
    let host = url.host_str()?.to_ascii_lowercase();
    Some(match url.port() {
        Some(p) => format!("//{host}:{p}{}", url.path()),
        None => format!("//{host}{}", url.path()),
    })
}

/// The credential for `url` among `list`: the longest matching prefix, then (when no prefix
/// matches) a host entry; on a tie the first listed (the user's before the project's).
pub fn best<'a>(list: &'a [Credential], url: &Url) -> Option<&'a Token> {
    let target = target(url)?;
    let host = url.host_str()?.to_ascii_lowercase();
    let mut best: Option<(&Credential, usize)> = None;
    for c in list {
        let len = match &c.bound {
            Bound::Prefix(p) if target.starts_with(p.as_str()) => p.len() + 1,
            Bound::Host(h) if *h == host => 1,
            _ => continue,
        };
        if best.is_none_or(|(_, l)| len > l) {
            best = Some((c, len));
        }
    }
    best.map(|(c, _)| &c.token)
}

/// Take the user name and password out of an index URL: the URL without them, and a basic
/// credential bound to its host and port (pip's rule), when it had any.
pub fn split_userinfo(mut url: Url, from: &str) -> (Url, Option<Credential>) {
    if url.username().is_empty() && url.password().is_none() {
        return (url, None);
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let user = decode(url.username());
    let password = decode(url.password().unwrap_or_default());
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let credential = url.host_str().map(|host| {
        let host = host.to_ascii_lowercase();
        let prefix = match url.port() {
            Some(p) => format!("//{host}:{p}/"),
            None => format!("//{host}/"),
        };
        Credential {
            bound: Bound::Prefix(prefix),
            token: Token::basic(&user, &password),
            from: from.to_string(),
        }
    });
    (url, credential)
}

/// One `.netrc` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetrcEntry {
    /// `machine HOST` (lower case), or `None` for `default`.
    pub machine: Option<String>,
    /// `login`.
    pub login: String,
    /// `password`.
    pub password: String,
}

/// Parse `.netrc` text: whitespace-separated tokens, `machine`/`default` entries with `login`,
/// `password` (and `account`, ignored), `macdef` bodies skipped up to a blank line, `#`
/// comments. Unknown tokens are skipped; nothing here fails.
pub fn parse_netrc(text: &str) -> Vec<NetrcEntry> {
    let mut out: Vec<NetrcEntry> = Vec::new();
    let mut current: Option<NetrcEntry> = None;
    let mut lines = text.lines();
    let mut pending: Vec<String> = Vec::new();
    loop {
        let Some(word) = pending.pop() else {
            let Some(line) = lines.next() else { break };
            let line = match line.find('#') {
                Some(i) if line[..i].trim().is_empty() => "",
                _ => line,
            };
            pending = line.split_whitespace().rev().map(str::to_string).collect();
            continue;
        };
        let mut value = || {
            pending.pop().or_else(|| {
                loop {
                    let line = lines.next()?;
                    let mut words: Vec<String> =
                        line.split_whitespace().rev().map(str::to_string).collect();
                    if let Some(w) = words.pop() {
                        pending = words;
                        return Some(w);
                    }
                }
            })
        };
        match word.as_str() {
            "machine" | "default" => {
                out.extend(current.take());
                let machine = if word == "machine" {
                    match value() {
                        Some(m) => Some(m.to_ascii_lowercase()),
                        None => break,
                    }
                } else {
                    None
                };
                current = Some(NetrcEntry {
                    machine,
                    login: String::new(),
                    password: String::new(),
                });
            }
            "login" => {
                let v = value().unwrap_or_default();
                if let Some(c) = current.as_mut() {
                    c.login = v;
                }
            }
            "password" => {
                let v = value().unwrap_or_default();
                if let Some(c) = current.as_mut() {
                    c.password = v;
                }
            }
            "account" => {
                value();
            }
            "macdef" => {
                value();
                pending.clear();
                for line in lines.by_ref() {
                    if line.trim().is_empty() {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out.extend(current);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_redaction() {
        assert_eq!(Token::bearer("t").authorization(), "Bearer t");
        assert_eq!(Token::basic("u", "p").authorization(), "Basic dTpw");
        assert_eq!(Token::raw("cio123").authorization(), "cio123");
        assert_eq!(
            format!("{:?}", Token::basic("u", "secret")),
            "Token(<redacted>)"
        );
    }

    #[test]
    fn netrc_entries() {
        let text = "# mine\nmachine PyPI.Corp.example login alice password s3cret\n\
                    machine other.example\n  login bob\n  password pw2 account x\n\
                    macdef init\n  cd /pub\n  machine evil.example login x password y\n\n\
                    default login anon password guest\n";
        let entries = parse_netrc(text);
        assert_eq!(entries.len(), 3, "{entries:?}");
        assert_eq!(entries[0].machine.as_deref(), Some("pypi.corp.example"));
        assert_eq!(
            (entries[0].login.as_str(), entries[0].password.as_str()),
            ("alice", "s3cret")
        );
        assert_eq!(entries[1].password, "pw2");
        assert_eq!(entries[2].machine, None);
        // Truncated and odd inputs never panic.
        for odd in [
            "machine",
            "login",
            "password x machine",
            "macdef",
            "\0\u{feff}",
        ] {
            let _ = parse_netrc(odd);
        }
    }

    #[test]
    fn credentials_go_only_to_their_host() {
        let url = Url::parse("https://alice:p%40ss@pypi.corp.example:8443/simple/").unwrap();
        let (clean, cred) = split_userinfo(url, "pip.conf");
        assert_eq!(clean.as_str(), "https://pypi.corp.example:8443/simple/");
        let cred = cred.unwrap();
        assert_eq!(cred.token.expose(), "alice:p@ss");
        let netrc = Credential {
            bound: Bound::Host("pypi.corp.example".into()),
            token: Token::basic("n", "n"),
            from: "~/.netrc".into(),
        };
        let list = vec![cred, netrc];
        let at = |u: &str| best(&list, &Url::parse(u).unwrap()).map(Token::expose);
        assert_eq!(
            at("https://pypi.corp.example:8443/integrity/x"),
            Some("alice:p@ss")
        );
        assert_eq!(at("https://pypi.corp.example/simple/x/"), Some("n:n"));
        assert_eq!(at("https://pypi.corp.example.evil/simple/"), None);
        assert_eq!(at("https://evil.example/pypi.corp.example/"), None);
    }
}

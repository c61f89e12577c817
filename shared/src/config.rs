//! Configuration from environment variables, read and validated once at cold
//! start. Every problem is reported at once, each with the variable's name.
//!
//! Each function's configuration implements [`Config`] by writing one `read`;
//! `from_env`, `from_lookup` and `variables` (the list the README and the
//! template are held to) come with it. Every validation that can find several
//! problems (a configuration, the stages file, the drift policy) reports them
//! as one [`Problems`].

use std::fmt;
use std::str::FromStr;

/// Every problem found in one thing (a configuration, a stages file, a drift
/// policy), each a line of the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems {
    /// What was invalid: "configuration", "stages file", "drift policy".
    pub what: &'static str,
    pub list: Vec<String>,
}

impl Problems {
    pub fn new(what: &'static str, list: Vec<String>) -> Self {
        Problems { what, list }
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.what, self.list.join("; "))
    }
}

impl std::error::Error for Problems {}

/// A function's configuration, read from its environment once at cold start.
pub trait Config: Sized {
    /// Reads and validates every variable through `env`, reporting each
    /// problem to it; `None` when a part could not be built (a file that did
    /// not parse), which `env` has reported.
    fn read<F: Fn(&str) -> Option<String>>(env: &mut Env<F>) -> Option<Self>;

    /// From the process environment (Lambda).
    fn from_env() -> Result<Self, Problems> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// From a lookup (a map in tests, the local stack's environment).
    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Problems> {
        let mut env = Env::new(lookup);
        let config = Self::read(&mut env);
        env.finish(config)?
            .ok_or_else(|| Problems::new("configuration", vec!["a part could not be read".into()]))
    }

    /// Every variable it reads, with its default (`None`: required; `Some("")`:
    /// optional, described in the README), in the order it reads them.
    fn variables() -> Vec<Variable> {
        variables_of(Self::read)
    }
}

/// A variable a function reads, and its default: `None` when it is required,
/// `Some("")` when unset means "none" (an empty prefix, no file).
pub type Variable = (&'static str, Option<String>);

/// Reads variables through a lookup function (the process environment in Lambda,
/// a map in tests), collects every problem, and records each variable it was
/// asked for with its default: the one list the README and the template are
/// checked against ([`variables_of`]).
pub struct Env<F: Fn(&str) -> Option<String>> {
    lookup: F,
    errors: Vec<String>,
    read: Vec<Variable>,
}

/// Every variable `read` asks for, with its default, in the order it asks.
pub fn variables_of<T>(
    read: impl FnOnce(&mut Env<fn(&str) -> Option<String>>) -> T,
) -> Vec<Variable> {
    let mut env: Env<fn(&str) -> Option<String>> = Env::new(|_| None);
    read(&mut env);
    env.read
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    pub fn new(lookup: F) -> Self {
        Env {
            lookup,
            errors: Vec::new(),
            read: Vec::new(),
        }
    }

    fn get(&mut self, name: &'static str, default: Option<String>) -> Option<String> {
        if !self.read.iter().any(|(n, _)| *n == name) {
            self.read.push((name, default));
        }
        (self.lookup)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    pub fn required(&mut self, name: &'static str) -> String {
        self.get(name, None).unwrap_or_else(|| {
            self.errors.push(format!("{name} is required but not set"));
            String::new()
        })
    }

    pub fn optional(&mut self, name: &'static str, default: &str) -> String {
        self.get(name, Some(default.to_string()))
            .unwrap_or_else(|| default.to_string())
    }

    /// A value parsed with `FromStr`, or the default when unset.
    pub fn parsed<T: FromStr + fmt::Display>(&mut self, name: &'static str, default: T) -> T
    where
        T::Err: fmt::Display,
    {
        match self.get(name, Some(default.to_string())) {
            None => default,
            Some(raw) => raw.parse().unwrap_or_else(|e| {
                self.errors.push(format!("{name}={raw:?} is invalid: {e}"));
                default
            }),
        }
    }

    /// An S3 bucket name, checked against S3's naming rules.
    pub fn bucket(&mut self, name: &'static str) -> String {
        let value = self.required(name);
        if !value.is_empty() && !is_valid_bucket_name(&value) {
            self.errors.push(format!(
                "{name}={value:?} is not a valid S3 bucket name (3-63 characters: a-z, 0-9, '.', '-')"
            ));
        }
        value
    }

    /// A key prefix, normalised to end with `/` (or empty).
    pub fn prefix(&mut self, name: &'static str, default: &str) -> String {
        let value = self.optional(name, default);
        let trimmed = value.trim_matches('/');
        if trimmed.is_empty() {
            String::new()
        } else {
            format!("{trimmed}/")
        }
    }

    /// A configuration file: the one `name` points at, or (unset) the bundled
    /// `bundled.1` called `bundled.0`; read and parsed by `parse`, whose
    /// problems are each reported with the file's source. `None` when it fails.
    pub fn file<T>(
        &mut self,
        name: &'static str,
        bundled: (&str, &str),
        parse: impl FnOnce(&str) -> Result<T, Vec<String>>,
    ) -> Option<T> {
        let path = self.optional(name, "");
        let (source, text) = if path.is_empty() {
            (format!("bundled {}", bundled.0), Ok(bundled.1.to_string()))
        } else {
            (format!("{name}={path}"), std::fs::read_to_string(&path))
        };
        let problems = match text.map(|text| parse(&text)) {
            Ok(Ok(value)) => return Some(value),
            Ok(Err(problems)) => problems,
            Err(e) => vec![format!("cannot be read: {e}")],
        };
        for problem in problems {
            self.error(format!("{source}: {problem}"));
        }
        None
    }

    pub fn error(&mut self, message: String) {
        self.errors.push(message);
    }

    pub fn finish<T>(self, value: T) -> Result<T, Problems> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(Problems::new("configuration", self.errors))
        }
    }
}

/// `DEAD_LETTER_QUEUE_URL`: the function's dead-letter queue, where permanent
/// failures go at once (see [`crate::aws::dead_letters`]).
pub fn dead_letter_queue<F: Fn(&str) -> Option<String>>(env: &mut Env<F>) -> String {
    let url = env.required("DEAD_LETTER_QUEUE_URL");
    let is_url = url.starts_with("https://") || url.starts_with("http://");
    if !url.is_empty() && !is_url {
        env.error(format!(
            "DEAD_LETTER_QUEUE_URL={url:?} is not an SQS queue URL"
        ));
    }
    url
}

pub fn is_valid_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric()
}

/// How to reach AWS: `S3_FORCE_PATH_STYLE=true` for emulators (moto) that do not
/// serve virtual-hosted bucket addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AwsSettings {
    pub s3_force_path_style: bool,
}

impl AwsSettings {
    pub fn read<F: Fn(&str) -> Option<String>>(env: &mut Env<F>) -> Self {
        AwsSettings {
            s3_force_path_style: env.parsed("S3_FORCE_PATH_STYLE", false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn collects_every_problem_with_its_name() {
        let vars: HashMap<&str, &str> =
            HashMap::from([("BUCKET", "Not_A_Bucket"), ("LIMIT", "ten")]);
        let mut env = Env::new(|k| vars.get(k).map(|v| v.to_string()));
        env.bucket("BUCKET");
        env.required("MISSING");
        let limit: u64 = env.parsed("LIMIT", 5);
        assert_eq!(limit, 5);
        let err = env.finish(()).unwrap_err();
        assert_eq!(err.list.len(), 3, "{err}");
        let text = err.to_string();
        assert!(
            text.contains("BUCKET=\"Not_A_Bucket\" is not a valid S3 bucket name"),
            "{text}"
        );
        assert!(text.contains("MISSING is required"), "{text}");
        assert!(text.contains("LIMIT=\"ten\" is invalid"), "{text}");
    }

    #[test]
    fn the_variables_read_are_recorded_with_their_defaults() {
        let read = variables_of(|env| {
            env.required("NEEDED");
            env.prefix("PREFIX", "datasets/");
            env.parsed("LIMIT", 5u64);
            env.optional("NEEDED", "ignored: asked for twice, listed once");
        });
        assert_eq!(
            read,
            [
                ("NEEDED", None),
                ("PREFIX", Some("datasets/".to_string())),
                ("LIMIT", Some("5".to_string())),
            ]
        );
    }

    #[test]
    fn prefixes_are_normalised() {
        let mut env = Env::new(|k| (k == "P").then(|| "/datasets".to_string()));
        assert_eq!(env.prefix("P", ""), "datasets/");
        assert_eq!(env.prefix("UNSET", ""), "");
    }
}

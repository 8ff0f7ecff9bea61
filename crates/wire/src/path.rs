//! `SandboxPath`: an absolute, normalised path inside a sandbox.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a string is not a valid sandbox path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// The string is empty.
    #[error("path is empty")]
    Empty,
    /// The path does not start with `/`.
    #[error("path `{0}` is relative: sandbox paths must start with `/`")]
    Relative(String),
    /// The path contains a NUL byte.
    #[error("path contains a NUL byte")]
    ContainsNul,
    /// The path contains another control character (such as a line break), which would
    /// corrupt the line-based tool result formats (listings, search results, batch reads).
    #[error("path contains the control character {0:?}")]
    ContainsControl(char),
    /// A `..` component would climb above `/`.
    #[error("path `{0}` escapes the root with `..`")]
    EscapesRoot(String),
}

/// An absolute, normalised path inside a sandbox, such as `/home/user/a.txt`, free of NUL and
/// other control characters.
///
/// [`SandboxPath::parse`] collapses repeated `/`, drops `.` components and trailing slashes,
/// and resolves `..` lexically; climbing above `/` is an error. The root is `/`.
/// Displays and serialises as the plain string.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SandboxPath(String);

impl SandboxPath {
    /// Validates and normalises `raw`.
    pub fn parse(raw: &str) -> Result<Self, PathError> {
        if raw.is_empty() {
            return Err(PathError::Empty);
        }
        if raw.contains('\0') {
            return Err(PathError::ContainsNul);
        }
        if let Some(control) = raw.chars().find(|c| c.is_control()) {
            return Err(PathError::ContainsControl(control));
        }
        if !raw.starts_with('/') {
            return Err(PathError::Relative(raw.to_owned()));
        }
        let mut parts: Vec<&str> = Vec::new();
        for part in raw.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() {
                        return Err(PathError::EscapesRoot(raw.to_owned()));
                    }
                }
                name => parts.push(name),
            }
        }
        Ok(Self::from_parts(&parts))
    }

    /// The root directory `/`.
    pub fn root() -> Self {
        Self("/".to_owned())
    }

    fn from_parts(parts: &[&str]) -> Self {
        let mut path = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum::<usize>() + 1);
        for part in parts {
            path.push('/');
            path.push_str(part);
        }
        if path.is_empty() {
            path.push('/');
        }
        Self(path)
    }

    /// The path as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for `/`.
    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    /// The components after the root, e.g. `["home", "user"]` for `/home/user`.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|part| !part.is_empty())
    }

    /// The last component, or `None` for the root.
    pub fn file_name(&self) -> Option<&str> {
        self.components().last()
    }

    /// The parent directory, or `None` for the root.
    pub fn parent(&self) -> Option<SandboxPath> {
        if self.is_root() {
            return None;
        }
        let parts: Vec<&str> = self.components().collect();
        Some(Self::from_parts(&parts[..parts.len() - 1]))
    }

    /// Appends a relative path (which may itself contain `/`, `.` and `..`) and normalises.
    /// An absolute `rel` replaces the path, as with [`std::path::Path::join`].
    pub fn join(&self, rel: &str) -> Result<SandboxPath, PathError> {
        if rel.starts_with('/') {
            return Self::parse(rel);
        }
        if rel.is_empty() {
            return Ok(self.clone());
        }
        Self::parse(&format!("{}/{}", self.0, rel))
    }

    /// True when `self` is `base` or lies below it (component-wise, so `/ab` is not below `/a`).
    pub fn starts_with(&self, base: &SandboxPath) -> bool {
        base.is_root()
            || self.0 == base.0
            || (self.0.starts_with(&base.0) && self.0.as_bytes().get(base.0.len()) == Some(&b'/'))
    }

    /// Consumes the path, returning the string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for SandboxPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for SandboxPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for SandboxPath {
    type Err = PathError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

impl TryFrom<&str> for SandboxPath {
    type Error = PathError;

    fn try_from(raw: &str) -> Result<Self, Self::Error> {
        Self::parse(raw)
    }
}

impl TryFrom<String> for SandboxPath {
    type Error = PathError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl Serialize for SandboxPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SandboxPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_slashes_dots_and_parents() {
        let path = SandboxPath::parse("//home/./user//x/../a.txt/").unwrap();
        assert_eq!(path.as_str(), "/home/user/a.txt");
        assert_eq!(SandboxPath::parse("/..foo/.").unwrap().as_str(), "/..foo");
        assert_eq!(SandboxPath::parse("/a/..").unwrap().as_str(), "/");
    }

    #[test]
    fn rejects_with_a_reason() {
        assert_eq!(SandboxPath::parse(""), Err(PathError::Empty));
        assert_eq!(
            SandboxPath::parse("rel/x"),
            Err(PathError::Relative("rel/x".into()))
        );
        assert_eq!(SandboxPath::parse("/a\0b"), Err(PathError::ContainsNul));
        assert_eq!(
            SandboxPath::parse("/a\nb"),
            Err(PathError::ContainsControl('\n'))
        );
        assert_eq!(
            SandboxPath::parse("/a/../.."),
            Err(PathError::EscapesRoot("/a/../..".into()))
        );
    }

    #[test]
    fn parent_join_and_prefix() {
        let path = SandboxPath::parse("/home/user/a.txt").unwrap();
        assert_eq!(path.parent().unwrap().as_str(), "/home/user");
        assert_eq!(path.file_name(), Some("a.txt"));
        assert_eq!(SandboxPath::root().parent(), None);
        let home = SandboxPath::parse("/home").unwrap();
        assert_eq!(home.join("user/../x").unwrap().as_str(), "/home/x");
        assert!(home.join("../..").is_err());
        assert!(path.starts_with(&home));
        assert!(!SandboxPath::parse("/homework").unwrap().starts_with(&home));
    }
}

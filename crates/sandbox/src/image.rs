//! Images: a named allow-list of host directories that form a sandbox's read-only base.

use std::path::Path;

/// What a sandbox's filesystem is built from: host directories overlaid at the same path
/// (read-only below a private writable layer) and a few symlinks in the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Image id, e.g. `default` or `agb-code-space-1`.
    pub name: String,
    /// Absolute host directories to expose, e.g. `/usr`. Never `/`.
    pub lowers: Vec<String>,
    /// Symlinks `(path in the root, target)`, e.g. `("bin", "usr/bin")`.
    pub symlinks: Vec<(String, String)>,
}

impl Image {
    /// The default image: `/usr`, `/etc` and `/opt`, plus the merged-usr symlinks.
    pub fn standard() -> Image {
        Image::named("default")
    }

    /// The default content under another name (how AGB image ids map to local sandboxes).
    pub fn named(name: &str) -> Image {
        let symlinks = ["bin", "sbin", "lib", "lib64", "lib32", "libx32"]
            .into_iter()
            .filter(|d| Path::new("/usr").join(d).is_dir())
            .map(|d| (d.to_owned(), format!("usr/{d}")))
            .collect();
        Image {
            name: name.to_owned(),
            lowers: ["/usr", "/etc", "/opt"]
                .into_iter()
                .map(str::to_owned)
                .collect(),
            symlinks,
        }
    }

    /// Checks the allow-list: absolute, normalised, not `/`, no `..`.
    pub fn validate(&self) -> Result<(), String> {
        for l in &self.lowers {
            let p = Path::new(l);
            let normal = p.components().all(|c| {
                matches!(
                    c,
                    std::path::Component::RootDir | std::path::Component::Normal(_)
                )
            });
            if !p.is_absolute() || l == "/" || !normal || l.contains(',') || l.contains(':') {
                return Err(format!(
                    "image {}: lower directory {l:?} must be an absolute, normalised path other than /",
                    self.name
                ));
            }
        }
        for (link, _) in &self.symlinks {
            if link.contains('/') || link.is_empty() || link == ".." {
                return Err(format!(
                    "image {}: symlink {link:?} must be a top-level name",
                    self.name
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Image;

    #[test]
    fn standard_is_valid_and_refuses_root() {
        assert!(Image::standard().validate().is_ok());
        let mut i = Image::standard();
        i.lowers.push("/".into());
        assert!(i.validate().is_err());
        i.lowers = vec!["/usr/../root".into()];
        assert!(i.validate().is_err());
    }
}

//! Where the site's files come from.

use std::path::PathBuf;

/// Read access to the site's files.
pub trait Files {
    /// The contents of `path` (relative, `/`-separated, already validated by
    /// the path rules), or `None` if it is not a readable file.
    fn read(&self, path: &str) -> Option<Vec<u8>>;
}

/// Files under a directory of the filesystem (in the component: the mount
/// root `/`, a WASI preopen).
#[derive(Debug, Clone)]
pub struct Dir {
    root: PathBuf,
}

impl Dir {
    /// Serves the files under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
}

impl Files for Dir {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        std::fs::read(self.root.join(path)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_files_not_directories() {
        let root = std::env::temp_dir().join(format!("vroom-static-site-{}", std::process::id()));
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/a.txt"), b"hi").unwrap();
        let dir = Dir::new(&root);
        assert_eq!(dir.read("sub/a.txt").as_deref(), Some(&b"hi"[..]));
        assert_eq!(dir.read("sub"), None);
        assert_eq!(dir.read("missing.txt"), None);
        std::fs::remove_dir_all(root).unwrap();
    }
}

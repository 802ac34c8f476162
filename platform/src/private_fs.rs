//! Files and directories only Nexo's own user may read: tenant databases, the control
//! plane, backups and the development key hold every tenant's data or the means to forge
//! its tokens. Directories are created 0700, files 0600 (on Unix), whatever the umask.

use std::{fs::File, io, path::Path};

/// Creates `dir` and its missing parents, each readable by this user alone.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Opens `path` for writing, created (or emptied) readable by this user alone.
pub fn create_file(path: &Path) -> io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Creates an empty `path` readable by this user alone, unless it exists: a database
/// engine that then opens it keeps its mode (SQLite gives its journal files the same).
pub fn create_empty_if_missing(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

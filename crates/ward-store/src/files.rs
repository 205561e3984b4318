//! Files in the data folder that hold key material.

use std::io::Write;
use std::path::Path;

/// Writes `contents` to a new file readable only by its owner (mode 0600 on
/// Unix) and flushes it to disk. Fails when the file already exists, so a
/// key is never overwritten.
pub fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

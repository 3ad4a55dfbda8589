//! Where clnrm keeps files of its own for the user: one place, so the plugin
//! cache and the files bind-mounted into containers agree on it.

use std::path::PathBuf;

/// `$CLNRM_CACHE_DIR`, else the user's cache dir for clnrm (on Linux
/// `$XDG_CACHE_HOME/clnrm` or `~/.cache/clnrm`); None when neither exists.
pub fn cache_dir() -> Option<PathBuf> {
    std::env::var_os("CLNRM_CACHE_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| directories::ProjectDirs::from("", "", "clnrm").map(|d| d.cache_dir().into()))
}

//! The pre-`main` hook that turns any binary linking this crate into the sandbox init.
//!
//! The engine re-executes `/proc/self/exe` once, with exactly one environment variable,
//! [`ZYGOTE_MARKER`]. A constructor in `.init_array` sees it before `main` (before a test
//! harness, a CLI parser or a tokio runtime start), runs [`crate::zygote::run`] (the
//! single-threaded process that clones every sandbox init) and exits without ever returning
//! into the host program.

use std::ffi::{CStr, c_char, c_int};

/// The one environment entry that selects the hidden sandbox zygote mode.
pub(crate) const ZYGOTE_MARKER: &str = "AGB_SANDBOX_ZYGOTE=1";

/// Placed in `.init_array`: the dynamic loader calls it with `argc`, `argv` and `envp`.
#[used]
#[unsafe(link_section = ".init_array")]
pub(crate) static INIT_HOOK: extern "C" fn(c_int, *const *const c_char, *const *const c_char) =
    init_hook;

extern "C" fn init_hook(_argc: c_int, _argv: *const *const c_char, envp: *const *const c_char) {
    if !has_marker(envp) {
        return;
    }
    let code = std::panic::catch_unwind(crate::zygote::run).unwrap_or(126);
    // SAFETY: `_exit` never returns and is always safe to call; the init must not run the
    // host program's `main` or its atexit handlers.
    unsafe { libc::_exit(code) }
}

/// Whether the environment block holds exactly [`ZYGOTE_MARKER`].
fn has_marker(envp: *const *const c_char) -> bool {
    if envp.is_null() {
        return false;
    }
    let mut i = 0;
    loop {
        // SAFETY: glibc passes a NULL-terminated array of valid C strings to `.init_array`
        // functions; we stop at the terminating NULL.
        let entry = unsafe { *envp.add(i) };
        if entry.is_null() {
            return false;
        }
        // SAFETY: `entry` is a non-NULL, NUL-terminated string from the environment block.
        let s = unsafe { CStr::from_ptr(entry) };
        if s.to_bytes() == ZYGOTE_MARKER.as_bytes() {
            return true;
        }
        i += 1;
    }
}

/// Keeps the hook linked: the linker drops unreferenced archive members, so the engine
/// touches this once when it starts.
pub(crate) fn ensure_linked() {
    std::hint::black_box(&INIT_HOOK);
}

/// The control socket the engine placed at fd 3, close-on-exec from now on. Call once.
pub(crate) fn take_control_fd() -> std::io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: F_GETFD/F_SETFD on fd 3 have no memory effects; we check that fd 3 is open.
    unsafe {
        let flags = super::cvt(libc::fcntl(3, libc::F_GETFD))?;
        super::cvt(libc::fcntl(3, libc::F_SETFD, flags | libc::FD_CLOEXEC))?;
    }
    // SAFETY: fd 3 is open (checked above) and was handed to us by the engine; nothing else
    // in this freshly exec'd process owns it.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(3) })
}

//! Network namespace setup: bring the loopback interface up.

use std::io;

use super::cvt;

/// Sets `IFF_UP` on `lo` in the current network namespace.
pub(crate) fn loopback_up() -> io::Result<()> {
    // SAFETY: a plain datagram socket; `ifr` is a zeroed ifreq with a NUL-terminated name;
    // the ioctls read and write only that struct. The socket is closed on every path.
    unsafe {
        let sock = cvt(libc::socket(
            libc::AF_INET,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            0,
        ))?;
        let mut ifr: libc::ifreq = std::mem::zeroed();
        for (dst, src) in ifr.ifr_name.iter_mut().zip(b"lo\0") {
            *dst = *src as libc::c_char;
        }
        let r = (|| {
            cvt(libc::ioctl(sock, libc::SIOCGIFFLAGS, &mut ifr))?;
            ifr.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            cvt(libc::ioctl(sock, libc::SIOCSIFFLAGS, &ifr))
        })();
        libc::close(sock);
        r.map(drop)
    }
}

/// Sets the host name of the current UTS namespace.
pub(crate) fn set_hostname(name: &str) -> io::Result<()> {
    // SAFETY: passes a pointer and length of a live byte slice.
    cvt(unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) }).map(drop)
}

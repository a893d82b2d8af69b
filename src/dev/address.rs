//! The address services are reached at. In the cloud the load balancer and the callers reach a
//! task at its own network interface's address, never at 127.0.0.1, so a service that listens
//! on the loopback interface only is never healthy there. dev reaches services the same way:
//! at this machine's first non-loopback IPv4 address (127.0.0.1 only when it has none).

use std::net::{IpAddr, Ipv4Addr};

/// This machine's first IPv4 address that is up and not loopback, else 127.0.0.1.
pub fn task_address() -> IpAddr {
    first_non_loopback().map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V4)
}

fn first_non_loopback() -> Option<Ipv4Addr> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list`, freed below with freeifaddrs.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return None;
    }
    let mut found = None;
    let mut cur = list;
    while !cur.is_null() && found.is_none() {
        // SAFETY: a node of the list getifaddrs returned.
        let ifa = unsafe { &*cur };
        let up = ifa.ifa_flags & libc::IFF_UP as u32 != 0;
        let loopback = ifa.ifa_flags & libc::IFF_LOOPBACK as u32 != 0;
        if up && !loopback && !ifa.ifa_addr.is_null() {
            // SAFETY: ifa_addr points to a sockaddr whose family says its type.
            let family = unsafe { (*ifa.ifa_addr).sa_family } as i32;
            if family == libc::AF_INET {
                // SAFETY: an AF_INET address is a sockaddr_in.
                let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
                found = Some(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)));
            }
        }
        cur = ifa.ifa_next;
    }
    // SAFETY: the list getifaddrs allocated.
    unsafe { libc::freeifaddrs(list) };
    found
}

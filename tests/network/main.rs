//! Area `network`: container networks, each test in throwaway network namespaces
//! (`world.rs`: one playing the host, one the outside world), never the machine's own.
//!
//! - bridge.rs: `--network none|bridge|host`, NAT out, `--internal`, addresses, resolv.conf
//! - ports.rs: `-p` from the host's 127.0.0.1 and from outside, `mdrun port`, `-P`, taken ports
//! - names.rs: user networks, containers by name and alias
//! - connect.rs: `network connect`/`disconnect` of a running container, inspect of both
//! - cleanup.rs: bad input, SIGKILL of mdrun during set-up then prune, `network rm`
//! - socket_close.rs: the ports' nfnetlink socket is closed by a short-lived child (strace)

#[path = "../common/mod.rs"]
mod common;

mod bridge;
mod cleanup;
mod connect;
mod names;
mod ports;
mod socket_close;
mod world;

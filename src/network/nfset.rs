//! Adding and removing elements of the `inet mdrun` port maps over nfnetlink, the way
//! `nft` does it underneath (one batch: begin, the element messages, end), without running
//! `nft`: a container's `-p` costs a few netlink messages, not a process (see README,
//! Networks, for the numbers). The table, its sets and rules are still made by `nft` once
//! per network (`nat::add_network`), where text is clearer and cost does not matter.

use netlink_sys::{Socket, SocketAddr};
use std::io;

const NETLINK_NETFILTER: isize = 12;
const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
const NFNL_MSG_BATCH_END: u16 = 0x11;
const NFT_MSG_NEWSETELEM: u16 = 12;
const NFT_MSG_DELSETELEM: u16 = 14;
const NFTA_SET_ELEM_LIST_TABLE: u16 = 1;
const NFTA_SET_ELEM_LIST_SET: u16 = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS: u16 = 3;
const NFTA_LIST_ELEM: u16 = 1;
const NFTA_SET_ELEM_KEY: u16 = 1;
const NFTA_SET_ELEM_DATA: u16 = 2;
const NFTA_DATA_VALUE: u16 = 1;
const NLA_F_NESTED: u16 = 0x8000;
const NFPROTO_INET: u8 = 1;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;

/// One element: its key and, in a map, its data (each already in nftables' register
/// layout: big-endian fields, each padded to 4 bytes).
pub struct Element {
    pub key: Vec<u8>,
    pub data: Option<Vec<u8>>,
}

/// The elements of one map, changed together.
pub struct MapChange<'a> {
    pub table: &'a str,
    pub map: &'a str,
    pub elements: Vec<Element>,
}

fn attr(buf: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    let len = 4 + payload.len();
    buf.extend_from_slice(&(len as u16).to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(payload);
    buf.resize(buf.len().next_multiple_of(4), 0);
}

fn nested(buf: &mut Vec<u8>, kind: u16, fill: impl FnOnce(&mut Vec<u8>)) {
    let mut inner = Vec::new();
    fill(&mut inner);
    attr(buf, kind | NLA_F_NESTED, &inner);
}

fn cstr(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

/// A netlink message: header, nfgenmsg (family, version 0, res_id), attributes.
fn message(kind: u16, flags: u16, seq: u32, family: u8, res_id: u16, attrs: &[u8]) -> Vec<u8> {
    let len = 16 + 4 + attrs.len();
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&(len as u32).to_ne_bytes());
    m.extend_from_slice(&kind.to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.push(family);
    m.push(0);
    m.extend_from_slice(&res_id.to_be_bytes());
    m.extend_from_slice(attrs);
    m
}

/// A socket for `apply`. Closing it soon after a change costs an RCU grace period: the
/// kernel then waits for nf_tables' pending transaction clean-up (nft_rcv_nl_event flushes
/// its destroy work, which calls synchronize_rcu; 29 ms seen here). So a container keeps
/// the socket its ports were published with until it ends, and after their removal hands
/// it to a child to close (`handoff`), off its start and end paths.
pub fn open() -> io::Result<Socket> {
    let mut sock = Socket::new(NETLINK_NETFILTER)?;
    sock.bind_auto()?;
    sock.connect(&SocketAddr::new(0, 0))?;
    Ok(sock)
}

/// Add (`create`: an element whose key is there already fails the whole batch with
/// EEXIST) or delete the elements of `changes`, in one atomic batch.
pub fn apply(sock: &Socket, changes: &[MapChange<'_>], add: bool) -> io::Result<()> {
    let changes: Vec<&MapChange<'_>> = changes.iter().filter(|c| !c.elements.is_empty()).collect();
    if changes.is_empty() {
        return Ok(());
    }
    let (kind, flags) = if add {
        (NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_EXCL)
    } else {
        (NFT_MSG_DELSETELEM, 0)
    };
    let mut batch = message(
        NFNL_MSG_BATCH_BEGIN,
        NLM_F_REQUEST,
        1,
        0,
        NFNL_SUBSYS_NFTABLES,
        &[],
    );
    for (i, c) in changes.iter().enumerate() {
        let mut attrs = Vec::new();
        attr(&mut attrs, NFTA_SET_ELEM_LIST_TABLE, &cstr(c.table));
        attr(&mut attrs, NFTA_SET_ELEM_LIST_SET, &cstr(c.map));
        nested(&mut attrs, NFTA_SET_ELEM_LIST_ELEMENTS, |list| {
            for e in &c.elements {
                nested(list, NFTA_LIST_ELEM, |el| {
                    nested(el, NFTA_SET_ELEM_KEY, |k| attr(k, NFTA_DATA_VALUE, &e.key));
                    if let Some(d) = &e.data {
                        nested(el, NFTA_SET_ELEM_DATA, |v| attr(v, NFTA_DATA_VALUE, d));
                    }
                });
            }
        });
        batch.extend(message(
            (NFNL_SUBSYS_NFTABLES << 8) | kind,
            NLM_F_REQUEST | NLM_F_ACK | flags,
            2 + i as u32,
            NFPROTO_INET,
            0,
            &attrs,
        ));
    }
    let end = 2 + changes.len() as u32;
    batch.extend(message(
        NFNL_MSG_BATCH_END,
        NLM_F_REQUEST,
        end,
        0,
        NFNL_SUBSYS_NFTABLES,
        &[],
    ));
    sock.send(&batch, 0)?;
    // One ack (or error) per element message; the first error is the batch's.
    let mut pending = changes.len();
    let mut first_err = None;
    let mut buf = Vec::with_capacity(8192);
    while pending > 0 {
        buf.clear();
        sock.recv(&mut buf, 0)?;
        let mut off = 0;
        while off + 16 <= buf.len() {
            let len = u32::from_ne_bytes(buf[off..off + 4].try_into().unwrap()) as usize;
            let kind = u16::from_ne_bytes(buf[off + 4..off + 6].try_into().unwrap());
            if len < 16 || off + len > buf.len() {
                break;
            }
            if kind == NLMSG_ERROR && len >= 20 {
                let code = i32::from_ne_bytes(buf[off + 16..off + 20].try_into().unwrap());
                pending = pending.saturating_sub(1);
                if code != 0 && first_err.is_none() {
                    first_err = Some(io::Error::from_raw_os_error(-code));
                }
            }
            off += len.next_multiple_of(4);
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

//! The system bus's authentication, started as soon as mdrun knows it will use systemd and
//! finished when it first needs the bus.
//!
//! `available()` connects to the bus socket anyway; instead of closing that socket, mdrun
//! writes the whole SASL exchange into it at once, as sd-bus does (`AUTH EXTERNAL`,
//! `NEGOTIATE_UNIX_FD`, `BEGIN`), followed by the `Hello` call, with no thread and no wait.
//! The bus answers while mdrun claims the container and clones its init; `finish` then
//! reads the answers, exactly up to the end of Hello's reply (what follows, the
//! NameAcquired signal, is zbus's to read), and hands the socket to zbus. zbus's own
//! handshake would wait for each answer in turn, after the clone (zbus starts threads, so
//! it cannot come before it).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::Mutex;
use std::time::Duration;

/// The socket with its handshake sent, waiting to be finished.
static STARTED: Mutex<Option<UnixStream>> = Mutex::new(None);

/// Sends the handshake on `stream` and keeps it for `finish`. Best effort: any failure
/// leaves nothing kept, and the bus is then connected the usual way.
pub(super) fn begin(mut stream: UnixStream) {
    let uid = nix::unistd::getuid().as_raw().to_string();
    let hex: String = uid.bytes().map(|b| format!("{b:02x}")).collect();
    let mut bytes = format!("\0AUTH EXTERNAL {hex}\r\nNEGOTIATE_UNIX_FD\r\nBEGIN\r\n").into_bytes();
    let Ok(hello) = zbus::Message::method_call("/org/freedesktop/DBus", "Hello")
        .and_then(|m| m.destination("org.freedesktop.DBus"))
        .and_then(|m| m.interface("org.freedesktop.DBus"))
        .and_then(|m| m.build(&()))
    else {
        return;
    };
    bytes.extend_from_slice(hello.data());
    if stream.write_all(&bytes).is_ok() {
        *STARTED.lock().unwrap_or_else(|e| e.into_inner()) = Some(stream);
    }
}

/// Drops the kept socket, unread: after a fork, the process that will not use the bus.
pub fn forget() {
    STARTED.lock().unwrap_or_else(|e| e.into_inner()).take();
}

/// The kept socket, authenticated, with the server's GUID; None when there is none or the
/// bus did not accept it (the caller connects the usual way).
pub(super) fn finish(timeout: Duration) -> Option<(UnixStream, String)> {
    let mut stream = STARTED.lock().unwrap_or_else(|e| e.into_inner()).take()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    // The two SASL answers, a byte at a time (some 60 bytes): a larger read could take the
    // start of the messages behind them.
    let mut sasl = Vec::new();
    while sasl.iter().filter(|&&b| b == b'\n').count() < 2 && sasl.len() < 4096 {
        let mut byte = [0u8];
        stream.read_exact(&mut byte).ok()?;
        sasl.push(byte[0]);
    }
    let guid = parse(&sasl)?;
    // Hello's reply: its fixed header says how long it is.
    let mut header = [0u8; 16];
    stream.read_exact(&mut header).ok()?;
    let rest = message_rest(&header)?;
    let mut reply = vec![0u8; rest];
    stream.read_exact(&mut reply).ok()?;
    // Type 2: a method return (an error would be type 3).
    if header[1] != 2 {
        return None;
    }
    stream.set_read_timeout(None).ok()?;
    Some((stream, guid))
}

/// Bytes of a D-Bus message after its 16-byte fixed header: the header fields (padded to 8)
/// and the body. None for a header that makes no sense.
fn message_rest(h: &[u8; 16]) -> Option<usize> {
    let word = |i: usize| {
        let b = [h[i], h[i + 1], h[i + 2], h[i + 3]];
        match h[0] {
            b'l' => Some(u32::from_le_bytes(b)),
            b'B' => Some(u32::from_be_bytes(b)),
            _ => None,
        }
    };
    let (body, fields) = (word(4)? as usize, word(12)? as usize);
    let padded = (16 + fields).div_ceil(8) * 8 - 16;
    let rest = padded.checked_add(body)?;
    (rest < 1 << 27).then_some(rest)
}

/// `OK <guid>\r\nAGREE_UNIX_FD\r\n` -> the GUID; anything else (REJECTED, ERROR) -> None.
fn parse(answers: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(answers).ok()?;
    let mut lines = text.split("\r\n");
    let guid = lines.next()?.strip_prefix("OK ")?.trim().to_string();
    (lines.next()? == "AGREE_UNIX_FD" && !guid.is_empty()).then_some(guid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answers_give_the_guid_or_nothing() {
        assert_eq!(
            parse(b"OK 0123456789abcdef0123456789abcdef\r\nAGREE_UNIX_FD\r\n").as_deref(),
            Some("0123456789abcdef0123456789abcdef")
        );
        assert_eq!(parse(b"REJECTED EXTERNAL\r\nERROR\r\n"), None);
        assert_eq!(parse(b"OK abc\r\nERROR\r\n"), None);
    }

    #[test]
    fn a_message_length_comes_from_its_header() {
        // 13 bytes of fields pad to 16 (16 + 13 -> 32), then a 9-byte body.
        let h = [b'l', 2, 1, 1, 9, 0, 0, 0, 2, 0, 0, 0, 13, 0, 0, 0];
        assert_eq!(message_rest(&h), Some(16 + 9));
        let be = [b'B', 2, 1, 1, 0, 0, 0, 9, 0, 0, 0, 2, 0, 0, 0, 13];
        assert_eq!(message_rest(&be), Some(16 + 9));
        let huge = [b'l', 2, 1, 1, 0, 0, 0, 0x40, 1, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(message_rest(&huge), None, "no 1 GiB reply");
        assert_eq!(message_rest(&[b'x'; 16]), None);
    }

    #[test]
    fn a_bus_that_accepts_the_pipelined_handshake_is_used() {
        let (ours, mut bus) = UnixStream::pair().unwrap();
        begin(ours);
        let mut sent = [0u8; 512];
        let n = bus.read(&mut sent).unwrap();
        let sent = String::from_utf8_lossy(&sent[..n]).into_owned();
        assert!(sent.starts_with("\0AUTH EXTERNAL "), "{sent:?}");
        assert!(
            sent.contains("\r\nNEGOTIATE_UNIX_FD\r\nBEGIN\r\nl\u{1}"),
            "{sent:?}"
        );
        bus.write_all(b"OK 0123456789abcdef0123456789abcdef\r\nAGREE_UNIX_FD\r\n")
            .unwrap();
        // Hello's reply (a method return, 8 bytes of fields, a 4-byte body), then a signal
        // that is not ours to read.
        let mut reply = vec![b'l', 2, 1, 1, 4, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0];
        reply.extend_from_slice(&[5, 1, b'u', 0, 1, 0, 0, 0, b'b', b'o', b'd', b'y']);
        bus.write_all(&reply).unwrap();
        bus.write_all(b"NEXT").unwrap();
        let (mut stream, guid) = finish(Duration::from_secs(5)).expect("authenticated");
        assert_eq!(guid, "0123456789abcdef0123456789abcdef");
        let mut next = [0u8; 4];
        stream.read_exact(&mut next).unwrap();
        assert_eq!(&next, b"NEXT", "read exactly to the end of Hello's reply");
        assert!(finish(Duration::from_secs(1)).is_none(), "taken once");
    }
}

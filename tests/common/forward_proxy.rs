//! A forward proxy of the test's own on 127.0.0.1, as HTTPS_PROXY and HTTP_PROXY name one:
//! it tunnels `CONNECT host:port` and passes plain requests (`GET http://host:port/...`)
//! on, both to one upstream port on 127.0.0.1 whatever host they name (so a made-up name
//! such as `registry.test` reaches the local registry through it, and only through it),
//! and counts the connections of each kind.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

pub struct ForwardProxy {
    pub port: u16,
    stop: Arc<AtomicBool>,
    connects: Arc<AtomicUsize>,
    plain: Arc<AtomicUsize>,
}

impl ForwardProxy {
    pub fn start(upstream: u16) -> ForwardProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let connects = Arc::new(AtomicUsize::new(0));
        let plain = Arc::new(AtomicUsize::new(0));
        let (stop2, connects2, plain2) = (stop.clone(), connects.clone(), plain.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let (connects, plain) = (connects2.clone(), plain2.clone());
                std::thread::spawn(move || {
                    let _ = serve(conn, upstream, &connects, &plain);
                });
            }
        });
        ForwardProxy {
            port,
            stop,
            connects,
            plain,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// (CONNECT tunnels, plain proxied connections) so far.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.connects.load(Ordering::SeqCst),
            self.plain.load(Ordering::SeqCst),
        )
    }
}

impl Drop for ForwardProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(
    mut conn: TcpStream,
    upstream: u16,
    connects: &AtomicUsize,
    plain: &AtomicUsize,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte)? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let mut up = TcpStream::connect(("127.0.0.1", upstream))?;
    if head.starts_with(b"CONNECT ") {
        connects.fetch_add(1, Ordering::SeqCst);
        conn.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    } else {
        plain.fetch_add(1, Ordering::SeqCst);
        up.write_all(&head)?;
    }
    let (mut conn_r, mut up_w) = (conn.try_clone()?, up.try_clone()?);
    let there = std::thread::spawn(move || {
        let _ = std::io::copy(&mut conn_r, &mut up_w);
        let _ = up_w.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut up, &mut conn);
    let _ = conn.shutdown(std::net::Shutdown::Both);
    let _ = there.join();
    Ok(())
}

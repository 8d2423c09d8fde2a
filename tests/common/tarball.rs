//! Hand-made tar archives, for entries no well-behaved tar tool writes (`../evil`, links
//! out of the root): a ustar header per entry, written byte by byte.

pub enum Kind<'a> {
    File(&'a [u8]),
    Dir,
    Symlink(&'a str),
    Hardlink(&'a str),
}

#[derive(Default)]
pub struct Tar(Vec<u8>);

impl Tar {
    pub fn new() -> Tar {
        Tar::default()
    }

    /// Append one entry; `name` is written as is (it may be absolute or hold `..`).
    pub fn entry(mut self, name: &str, kind: Kind<'_>) -> Tar {
        assert!(
            name.len() < 100,
            "ustar names are at most 99 bytes here: {name}"
        );
        let mut h = [0u8; 512];
        let put = |h: &mut [u8; 512], at: usize, bytes: &[u8]| {
            h[at..at + bytes.len()].copy_from_slice(bytes)
        };
        put(&mut h, 0, name.as_bytes());
        let (mode, flag, size, link, data): (&str, u8, usize, &str, &[u8]) = match kind {
            Kind::File(data) => ("0000644", b'0', data.len(), "", data),
            Kind::Dir => ("0000755", b'5', 0, "", &[]),
            Kind::Symlink(target) => ("0000777", b'2', 0, target, &[]),
            Kind::Hardlink(target) => ("0000644", b'1', 0, target, &[]),
        };
        put(&mut h, 100, mode.as_bytes());
        put(&mut h, 108, b"0000000");
        put(&mut h, 116, b"0000000");
        put(&mut h, 124, format!("{size:011o}").as_bytes());
        put(&mut h, 136, b"00000000000");
        h[156] = flag;
        assert!(link.len() < 100);
        put(&mut h, 157, link.as_bytes());
        put(&mut h, 257, b"ustar\0");
        put(&mut h, 263, b"00");
        put(&mut h, 148, b"        ");
        let sum: u32 = h.iter().map(|&b| b as u32).sum();
        put(&mut h, 148, format!("{sum:06o}\0 ").as_bytes());
        self.0.extend_from_slice(&h);
        self.0.extend_from_slice(data);
        self.0.resize(self.0.len().div_ceil(512) * 512, 0);
        self
    }

    /// The archive with its end-of-archive marker.
    pub fn finish(mut self) -> Vec<u8> {
        self.0.extend_from_slice(&[0u8; 1024]);
        self.0
    }
}

//! docker's byte sizes (go-units): `BytesSize` (binary: `1.5MiB`) for memory, `HumanSize`
//! (decimal: `1.23kB`) for network and block I/O, both printed with Go's `%.4g`.

const BINARY: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
const DECIMAL: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];

/// go-units BytesSize: `100MiB`.
pub fn bytes_size(n: u64) -> String {
    custom(n as f64, 1024.0, &BINARY)
}

/// go-units HumanSize: `1.23kB`.
pub fn human_size(n: u64) -> String {
    custom(n as f64, 1000.0, &DECIMAL)
}

fn custom(mut size: f64, base: f64, units: &[&str]) -> String {
    let mut i = 0;
    while size >= base && i + 1 < units.len() {
        size /= base;
        i += 1;
    }
    format!("{}{}", g4(size), units[i])
}

/// Go's `%.4g` for 0 <= v < 10000: four significant digits, no trailing zeros.
pub fn g4(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let digits = v.abs().log10().floor() as i32;
    let decimals = (3 - digits).max(0) as usize;
    let s = format!("{v:.decimals$}");
    match s.contains('.') {
        true => s.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_as_docker_prints_them() {
        assert_eq!(bytes_size(0), "0B");
        assert_eq!(bytes_size(100 << 20), "100MiB");
        assert_eq!(bytes_size(1536 * 1024), "1.5MiB");
        assert_eq!(bytes_size(434_176), "424KiB");
        assert_eq!(human_size(1234), "1.234kB");
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(12_345_678), "12.35MB");
    }
}

//! Image references (`run IMAGE`, `import ... NAME:TAG`, `commit`, `save`, `rmi`, the
//! `image` of a container file) with both parsers, `parse::image_ref` and
//! `image::Reference::parse`; and the other names a user types: `--name`, `--hostname`,
//! `-e NAME=value`. Never a panic; an accepted reference prints back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mdrun::image::Reference;
use mdrun::parse;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let s = s.as_ref();

    match Reference::parse(s) {
        Ok(r) => {
            // Stored in tags.json as `name:tag` and parsed again from there.
            let again = Reference::parse(&r.to_string());
            assert_eq!(again.as_ref().ok(), Some(&r), "{s:?} -> {r}");
            assert!(!r.name.contains(['\0', '\n', '@', ' ']), "{s:?} -> {r:?}");
        }
        Err(e) => drop(e.to_string()),
    }
    match parse::image_ref(s) {
        Ok((name, tag)) => {
            let printed = format!("{name}:{tag}");
            let again = parse::image_ref(&printed);
            assert_eq!(
                again.as_ref().ok(),
                Some(&(name.clone(), tag.clone())),
                "{s:?} -> {printed:?}"
            );
            assert!(!name.is_empty() && !tag.is_empty() && !name.contains(".."));
        }
        Err(e) => drop(e.to_string()),
    }
    match parse::name(s) {
        Ok(()) => assert!(!s.is_empty() && !s.contains(['/', '\0']) && !s.starts_with('.')),
        Err(e) => drop(e.to_string()),
    }
    match parse::hostname(s) {
        Ok(()) => assert!(!s.is_empty() && s.len() <= 64 && !s.contains(['/', '\0'])),
        Err(e) => drop(e.to_string()),
    }
    match parse::env_pair(s) {
        Ok(Some((k, v))) => assert!(
            !k.is_empty() && !k.contains(['=', '\0']) && !v.contains('\0'),
            "{s:?}"
        ),
        Ok(None) => {}
        Err(e) => drop(e.to_string()),
    }
});

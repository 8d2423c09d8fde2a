//! Writing `container.json` so that a full disk cannot stop it: the end of a container must
//! be recorded even when the container itself filled the store.
//!
//! Each container directory holds two files of the same reserved size: the record and a
//! spare (`.container.json.spare`), with disk blocks for [`reserve_for`] bytes allocated
//! (fallocate, `FALLOC_FL_KEEP_SIZE`). A write fills the spare in place (blocks it already
//! has, so no new ones are needed), then swaps it with the record in one step
//! (`renameat2(RENAME_EXCHANGE)`): readers see the old record or the new one, never a torn
//! one, and the old record, with its blocks, is the spare for the next write. Nothing is
//! freed for someone else to take between two writes, and no temporary file is ever left.
//!
//! The first write (the claim of `run`, before the init is cloned) makes the record alone,
//! with its room, so the start costs one file as before; its spare is made by [`keep_room`],
//! which `run` calls after the clone, while the init builds its root filesystem, and before
//! the command may run: when the disk is full already, the start fails and nothing is left
//! of the container. A write that finds no spare (a record of an older mdrun) makes one.
//!
//! A reader that opened the record just before a swap reads the inode that becomes the spare:
//! if the next write rewrites it while that reader is still reading, the reader may see a
//! mix of the two, which does not parse (the two are of one container, so a mix could in
//! theory parse; only a read that straddles two writes can get one); [`super::Record::load`]
//! then reads again.
//!
//! The file is the JSON, padded with spaces (JSON whitespace) only when a record is shorter
//! than the one the spare held before: shrinking the file would free the blocks past its
//! end.

use super::{io, StateError};
use nix::fcntl::{fallocate, renameat2, FallocateFlags, RenameFlags, AT_FDCWD};
use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

/// The record's name in its container directory.
pub const FILE: &str = "container.json";
/// The spare: the record's room for its next write.
pub const SPARE: &str = ".container.json.spare";

/// How much a record may grow between two writes without needing new blocks (a commit
/// adds a layer id, the end adds an exit status and a time).
const SLACK: u64 = 1024;
const BLOCK: u64 = 4096;

/// Bytes reserved for a record of `len` bytes (and its spare).
pub fn reserve_for(len: usize) -> u64 {
    (len as u64 + SLACK).div_ceil(BLOCK) * BLOCK
}

/// Write `data` as the record in `dir` (see the module's comment).
pub fn write(dir: &Path, data: &[u8]) -> Result<(), StateError> {
    let path = dir.join(FILE);
    let spare = dir.join(SPARE);
    let reserve = reserve_for(data.len());
    let (file, made) = open_spare(&spare)?;
    let undo = |e: StateError| {
        if made {
            let _ = std::fs::remove_file(&spare);
        }
        e
    };
    fill(&file, &spare, data, reserve).map_err(undo)?;
    drop(file);
    match renameat2(
        AT_FDCWD,
        &spare,
        AT_FDCWD,
        &path,
        RenameFlags::RENAME_EXCHANGE,
    ) {
        // The old record is the spare now.
        Ok(()) => Ok(()),
        // The first record: its spare comes later ([`keep_room`]).
        Err(nix::Error::ENOENT) => std::fs::rename(&spare, &path)
            .map_err(io("rename", &path))
            .map_err(undo),
        // A filesystem without RENAME_EXCHANGE: the old record goes, a new spare is made
        // if there is room.
        Err(nix::Error::EINVAL) => {
            std::fs::rename(&spare, &path)
                .map_err(io("rename", &path))
                .map_err(undo)?;
            let _ = make_spare(&spare, reserve);
            Ok(())
        }
        Err(e) => Err(undo(io("exchange with", &path)(e.into()))),
    }
}

/// Make sure the record in `dir` has its spare, with room for a record of its size: from
/// then on, writing it needs no new disk blocks. Writes no content, so it needs no lock.
pub fn keep_room(dir: &Path) -> Result<(), StateError> {
    let path = dir.join(FILE);
    let len = std::fs::metadata(&path).map_err(io("stat", &path))?.len();
    make_spare(&dir.join(SPARE), reserve_for(len as usize))
}

/// The spare, and whether this call made it.
fn open_spare(spare: &Path) -> Result<(File, bool), StateError> {
    let mut opts = OpenOptions::new();
    opts.write(true).custom_flags(libc::O_CLOEXEC);
    match opts.open(spare) {
        Ok(f) => Ok((f, false)),
        Err(e) if e.kind() == ErrorKind::NotFound => opts
            .create_new(true)
            .mode(0o644)
            .open(spare)
            .map(|f| (f, true))
            .map_err(io("create", spare)),
        Err(e) => Err(io("open", spare)(e)),
    }
}

/// The spare, with `reserve` bytes of room; removed again when this call made it and the
/// room cannot be had.
fn make_spare(spare: &Path, reserve: u64) -> Result<(), StateError> {
    let (file, made) = open_spare(spare)?;
    let reserved = file
        .metadata()
        .map_err(io("stat", spare))
        .and_then(|m| reserve_room(&file, spare, m.blocks(), reserve));
    if reserved.is_err() && made {
        let _ = std::fs::remove_file(spare);
    }
    reserved
}

/// Make sure `file` (of `blocks` 512-byte blocks now) has disk blocks for `reserve` bytes.
fn reserve_room(file: &File, path: &Path, blocks: u64, reserve: u64) -> Result<(), StateError> {
    if blocks * 512 >= reserve {
        return Ok(());
    }
    match fallocate(file, FallocateFlags::FALLOC_FL_KEEP_SIZE, 0, reserve as i64) {
        // A filesystem that cannot preallocate: written as before, without a reservation.
        Ok(()) | Err(nix::Error::EOPNOTSUPP) => Ok(()),
        Err(e) => Err(io("fallocate", path)(e.into())),
    }
}

/// Overwrite the spare with `data`, padded to the spare's length when shorter.
fn fill(file: &File, spare: &Path, data: &[u8], reserve: u64) -> Result<(), StateError> {
    let meta = file.metadata().map_err(io("stat", spare))?;
    if let Err(e) = reserve_room(file, spare, meta.blocks(), reserve) {
        // No room for the slack on a full disk: the record itself may still fit in the
        // blocks the spare has (a record grows by a few bytes at a time, the slack is for
        // the next writes).
        if meta.blocks() * 512 < (data.len() as u64).div_ceil(BLOCK) * BLOCK {
            return Err(e);
        }
    }
    let pad = (meta.len() as usize).saturating_sub(data.len());
    let written = if pad == 0 {
        file.write_all_at(data, 0)
    } else {
        let mut padded = Vec::with_capacity(data.len() + pad);
        padded.extend_from_slice(data);
        padded.resize(data.len() + pad, b' ');
        file.write_all_at(&padded, 0)
    };
    written.map_err(io("write", spare))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        n.sort();
        n
    }

    #[test]
    fn writes_swap_the_record_and_its_reserved_spare() {
        let dir = tempfile::tempdir().unwrap();
        let long = format!("{{\"a\":\"{}\"}}", "x".repeat(100));
        write(dir.path(), long.as_bytes()).unwrap();
        assert_eq!(names(dir.path()), vec![FILE]);
        keep_room(dir.path()).unwrap();
        assert_eq!(names(dir.path()), vec![SPARE, FILE]);
        assert_eq!(
            std::fs::read(dir.path().join(FILE)).unwrap(),
            long.as_bytes()
        );
        write(dir.path(), b"{\"a\":1}").unwrap();
        // Shorter than what the spare held: padded with JSON whitespace, parses the same.
        let text = std::fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert_eq!(text.trim_end(), "{\"a\":1}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["a"], 1);
        // The previous record is the spare now, still holding its room.
        let spare = std::fs::metadata(dir.path().join(SPARE)).unwrap();
        assert!(spare.blocks() * 512 >= reserve_for(long.len()), "{spare:?}");
        assert_eq!(names(dir.path()), vec![SPARE, FILE]);
    }
}

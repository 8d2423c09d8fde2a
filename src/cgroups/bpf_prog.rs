//! The bpf(2) side of the device filter: load a BPF_PROG_TYPE_CGROUP_DEVICE program, attach
//! it to a cgroup2 directory (BPF_F_ALLOW_MULTI: the programs of the cgroups above, systemd's
//! for a unit with DevicePolicy=, run too and all must allow), and replace the ones of ours
//! already there (`mdrun-oci update`): the new one is attached first, then the old ones are
//! detached, so that at no moment is the cgroup without a filter. "Ours" are the programs
//! named `mdrun_devcg`; others on the same cgroup (systemd's on a scope) are left alone.

use super::device_bpf::Insn;
use super::CgroupError;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

// bpf(2) commands, program and attach types, flags (include/uapi/linux/bpf.h).
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_DETACH: libc::c_long = 9;
const BPF_PROG_GET_FD_BY_ID: libc::c_long = 13;
const BPF_OBJ_GET_INFO_BY_FD: libc::c_long = 15;
const BPF_PROG_QUERY: libc::c_long = 16;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
const BPF_F_ALLOW_MULTI: u32 = 2;

/// The name our programs carry (at most 15 bytes).
const NAME: &[u8] = b"mdrun_devcg";

/// The BPF_PROG_LOAD part of `union bpf_attr`, up to expected_attach_type.
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// The BPF_PROG_ATTACH / BPF_PROG_DETACH part of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct ProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
}

/// The BPF_PROG_QUERY part of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct ProgQueryAttr {
    target_fd: u32,
    attach_type: u32,
    query_flags: u32,
    attach_flags: u32,
    prog_ids: u64,
    prog_cnt: u32,
    _pad: u32,
}

/// The BPF_PROG_GET_FD_BY_ID part of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct GetFdAttr {
    prog_id: u32,
    next_id: u32,
    open_flags: u32,
}

/// The BPF_OBJ_GET_INFO_BY_FD part of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct InfoAttr {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}

/// `struct bpf_prog_info` up to its name (the kernel fills as much as `info_len` says).
#[repr(C)]
#[derive(Default)]
struct ProgInfo {
    typ: u32,
    id: u32,
    tag: [u8; 8],
    jited_prog_len: u32,
    xlated_prog_len: u32,
    jited_prog_insns: u64,
    xlated_prog_insns: u64,
    load_time: u64,
    created_by_uid: u32,
    nr_map_ids: u32,
    map_ids: u64,
    name: [u8; 16],
}

fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> Result<libc::c_long, nix::Error> {
    // SAFETY: `attr` is a live, zero-padded `union bpf_attr` prefix of the size passed; the
    // kernel reads it and writes only into it or into the buffers it points to, which the
    // callers keep alive and sized as the attr says.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut T as *mut libc::c_void,
            std::mem::size_of::<T>() as libc::c_uint,
        )
    };
    if r < 0 {
        Err(nix::Error::last())
    } else {
        Ok(r)
    }
}

/// A descriptor the kernel just returned.
fn owned(fd: libc::c_long) -> OwnedFd {
    // SAFETY: the kernel just returned this descriptor to us and nobody else owns it.
    unsafe { OwnedFd::from_raw_fd(fd as i32) }
}

fn load_with(prog: &[Insn], log: Option<&mut Vec<u8>>) -> Result<OwnedFd, nix::Error> {
    let license = b"Apache\0"; // the verifier only wants one for GPL-only helpers (none here)
    let mut attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: prog.len() as u32,
        insns: prog.as_ptr() as u64,
        license: license.as_ptr() as u64,
        expected_attach_type: BPF_CGROUP_DEVICE,
        ..Default::default()
    };
    attr.prog_name[..NAME.len()].copy_from_slice(NAME);
    if let Some(buf) = log {
        attr.log_level = 1;
        attr.log_size = buf.len() as u32;
        attr.log_buf = buf.as_mut_ptr() as u64;
    }
    bpf(BPF_PROG_LOAD, &mut attr).map(owned)
}

/// Load `prog`; on a refusal, say why with the verifier's last line.
fn load(prog: &[Insn]) -> Result<OwnedFd, String> {
    load_with(prog, None).map_err(|e| {
        let mut log = vec![0u8; 8192];
        let _ = load_with(prog, Some(&mut log));
        let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
        let text = String::from_utf8_lossy(&log[..end]);
        let last = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        format!("load the BPF_CGROUP_DEVICE program: {e} {last}")
    })
}

fn open_dir(dir: &Path) -> Result<OwnedFd, String> {
    nix::fcntl::open(
        dir,
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| format!("open the cgroup: {e}"))
}

fn attach_fd(cg: &OwnedFd, prog: &OwnedFd) -> Result<(), String> {
    let mut attr = ProgAttachAttr {
        target_fd: cg.as_fd().as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
    };
    bpf(BPF_PROG_ATTACH, &mut attr)
        .map(drop)
        .map_err(|e| format!("attach the BPF_CGROUP_DEVICE program: {e}"))
}

/// The ids of the device programs attached to the cgroup itself.
fn query(cg: &OwnedFd) -> Result<Vec<u32>, String> {
    let mut ids = vec![0u32; 64];
    loop {
        let mut attr = ProgQueryAttr {
            target_fd: cg.as_raw_fd() as u32,
            attach_type: BPF_CGROUP_DEVICE,
            prog_ids: ids.as_mut_ptr() as u64,
            prog_cnt: ids.len() as u32,
            ..Default::default()
        };
        match bpf(BPF_PROG_QUERY, &mut attr) {
            Ok(_) => {
                ids.truncate(attr.prog_cnt as usize);
                return Ok(ids);
            }
            // More than we had room for: prog_cnt says how many.
            Err(nix::Error::ENOSPC) if attr.prog_cnt as usize > ids.len() => {
                ids = vec![0u32; attr.prog_cnt as usize];
            }
            Err(e) => return Err(format!("query the cgroup's device programs: {e}")),
        }
    }
}

/// The program with `id`, when it is one of ours (by its name).
fn ours(id: u32) -> Result<Option<OwnedFd>, String> {
    let mut attr = GetFdAttr {
        prog_id: id,
        ..Default::default()
    };
    let fd = match bpf(BPF_PROG_GET_FD_BY_ID, &mut attr) {
        Ok(fd) => owned(fd),
        // Gone meanwhile, or one we may not see (an LSM's): not ours to replace.
        Err(nix::Error::ENOENT | nix::Error::EPERM | nix::Error::EACCES) => return Ok(None),
        Err(e) => return Err(format!("open device program {id}: {e}")),
    };
    let mut info = ProgInfo::default();
    let mut attr = InfoAttr {
        bpf_fd: fd.as_raw_fd() as u32,
        info_len: std::mem::size_of::<ProgInfo>() as u32,
        info: &mut info as *mut ProgInfo as u64,
    };
    bpf(BPF_OBJ_GET_INFO_BY_FD, &mut attr)
        .map_err(|e| format!("read the name of device program {id}: {e}"))?;
    let end = info.name.iter().position(|&b| b == 0).unwrap_or(16);
    Ok((&info.name[..end] == NAME).then_some(fd))
}

fn detach_fd(cg: &OwnedFd, prog: &OwnedFd) -> Result<(), String> {
    let mut attr = ProgAttachAttr {
        target_fd: cg.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: 0,
    };
    bpf(BPF_PROG_DETACH, &mut attr)
        .map(drop)
        .map_err(|e| format!("detach the old device program: {e}"))
}

fn ours_on(cg: &OwnedFd) -> Result<Vec<OwnedFd>, String> {
    let mut old = Vec::new();
    for id in query(cg)? {
        old.extend(ours(id)?);
    }
    Ok(old)
}

fn fail(dir: &Path) -> impl Fn(String) -> CgroupError + '_ {
    move |reason| CgroupError::Devices {
        path: dir.to_path_buf(),
        reason,
    }
}

/// Load `prog` and attach it to the cgroup2 directory `dir`. The cgroup holds the program
/// from then on; our descriptors are closed on return.
pub fn attach(dir: &Path, prog: &[Insn]) -> Result<(), CgroupError> {
    let prog = load(prog).map_err(fail(dir))?;
    let cg = open_dir(dir).map_err(fail(dir))?;
    attach_fd(&cg, &prog).map_err(fail(dir))
}

/// Attach `prog` to `dir` in place of the programs of ours already there.
pub fn replace(dir: &Path, prog: &[Insn]) -> Result<(), CgroupError> {
    let prog = load(prog).map_err(fail(dir))?;
    let cg = open_dir(dir).map_err(fail(dir))?;
    let old = ours_on(&cg).map_err(fail(dir))?;
    attach_fd(&cg, &prog).map_err(fail(dir))?;
    for p in &old {
        detach_fd(&cg, p).map_err(fail(dir))?;
    }
    Ok(())
}

/// Detach the programs of ours from `dir` (systemd's own filter takes over).
pub fn detach_ours(dir: &Path) -> Result<(), CgroupError> {
    let cg = open_dir(dir).map_err(fail(dir))?;
    for p in &ours_on(&cg).map_err(fail(dir))? {
        detach_fd(&cg, p).map_err(fail(dir))?;
    }
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::cgroups::device_bpf::{program, Rule, ACC_READ, ACC_WRITE, DEV_CHAR};

    /// A new directory below our own cgroup2 cgroup (the unified hierarchy of a hybrid host,
    /// or the only one on v2).
    pub(in crate::cgroups) fn own_cgroup2_dir(name: &str) -> std::path::PathBuf {
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let mount = info
            .lines()
            .find(|l| {
                l.split_once(" - ")
                    .is_some_and(|(_, a)| a.starts_with("cgroup2 "))
            })
            .and_then(|l| l.split_whitespace().nth(4))
            .expect("a cgroup2 mount")
            .to_string();
        let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
        let own = own.lines().find_map(|l| l.strip_prefix("0::")).unwrap();
        let dir = Path::new(&mount)
            .join(own.trim_start_matches('/'))
            .join(format!("{name}-{}", std::process::id()));
        std::fs::create_dir(&dir).unwrap();
        dir
    }

    /// What a shell in `dir` may open: "null-ok zero-ok", "null-ok zero-denied".
    fn probe(dir: &Path) -> String {
        let script = format!(
            "echo $$ > {}/cgroup.procs || exit 9; \
             (: < /dev/null) 2>/dev/null && echo null-ok || echo null-denied; \
             (: < /dev/zero) 2>/dev/null && echo zero-ok || echo zero-denied",
            dir.display()
        );
        let out = std::process::Command::new("sh")
            .args(["-c", &script])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `update`'s path against the kernel: a second program replaces the first (with
    /// BPF_F_ALLOW_MULTI a program left beside it would still deny), and ours is then the
    /// only one on the cgroup. The cgroup is removed afterwards.
    #[test]
    #[ignore = "needs root and a cgroup2 hierarchy: bash tests/run runs it"]
    fn replace_takes_the_old_program_off_the_cgroup() {
        assert!(
            nix::unistd::geteuid().is_root(),
            "needs root (bash tests/run)"
        );
        let dir = own_cgroup2_dir("mdrun-devreplace");
        let rw = ACC_READ | ACC_WRITE;
        let null = Rule {
            ty: Some(DEV_CHAR),
            major: Some(1),
            minor: Some(3),
            access: rw,
        };
        let zero = Rule {
            minor: Some(5),
            ..null
        };
        let steps = (|| -> Result<(String, String, usize), String> {
            attach(&dir, &program(&[null])).map_err(|e| e.to_string())?;
            let before = probe(&dir);
            replace(&dir, &program(&[null, zero])).map_err(|e| e.to_string())?;
            let after = probe(&dir);
            let cg = open_dir(&dir)?;
            Ok((before, after, ours_on(&cg)?.len()))
        })();
        std::fs::remove_dir(&dir).unwrap_or_else(|e| panic!("rmdir {}: {e}", dir.display()));
        let (before, after, n) = steps.unwrap();
        assert_eq!(before, "null-ok zero-denied");
        assert_eq!(after, "null-ok zero-ok");
        assert_eq!(n, 1, "programs of ours left on the cgroup");
    }
}

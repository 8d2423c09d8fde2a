//! The device filter on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program, as runc and crun
//! attach one (v2 has no devices.allow / devices.deny files).
//!
//! The kernel runs the program on every open and mknod of a device node by a process of the
//! cgroup (and of its descendants) with `struct bpf_cgroup_dev_ctx { u32 access_type; u32
//! major; u32 minor; }`, where `access_type` is `access << 16 | type`; it returns 1 to allow.
//! The program is one block per rule of the allow list, as runc's
//! (libcontainer/cgroups/devices/devicefilter.go) is: each block falls through to the next
//! on a mismatch; the end denies. `filter` makes the general form mdrun-oci needs: a default
//! of allow with exceptions that deny (any of their access requested). The bpf(2) calls that
//! load and attach it are `bpf_prog`'s.

use super::CgroupError;
use std::path::Path;

/// `BPF_DEVCG_DEV_*` and `BPF_DEVCG_ACC_*` (include/uapi/linux/bpf.h).
pub const DEV_BLOCK: u32 = 1;
pub const DEV_CHAR: u32 = 2;
pub const ACC_MKNOD: u32 = 1;
pub const ACC_READ: u32 = 2;
pub const ACC_WRITE: u32 = 4;

/// One allow rule: `ty` None is any type, `major`/`minor` None is `*`, `access` a mask of
/// `ACC_*` (the request must be within it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub ty: Option<u32>,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    pub access: u32,
}

/// One `struct bpf_insn`: opcode, dst and src registers in one byte, offset, immediate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Insn {
    code: u8,
    regs: u8,
    off: i16,
    imm: i32,
}

// Opcodes (include/uapi/linux/bpf_common.h, bpf.h).
const LDX_MEM_W: u8 = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const ALU_AND_K: u8 = 0x54; // BPF_ALU | BPF_AND | BPF_K (32-bit)
const ALU_RSH_K: u8 = 0x74; // BPF_ALU | BPF_RSH | BPF_K
const ALU_MOV_K: u8 = 0xb4; // BPF_ALU | BPF_MOV | BPF_K
const ALU_MOV_X: u8 = 0xbc; // BPF_ALU | BPF_MOV | BPF_X
const JMP_JNE_K: u8 = 0x55; // BPF_JMP | BPF_JNE | BPF_K
const JMP_JNE_X: u8 = 0x5d; // BPF_JMP | BPF_JNE | BPF_X
const JMP_JEQ_K: u8 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const JMP_EXIT: u8 = 0x95; // BPF_JMP | BPF_EXIT

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | dst,
        off,
        imm,
    }
}

/// The program for `rules`: r2 = type, r3 = access, r4 = major, r5 = minor; then a block per
/// rule; then deny.
pub fn program(rules: &[Rule]) -> Vec<Insn> {
    filter(false, rules)
}

/// The program for a default and its exceptions (v1's model, as runc emits it): with
/// `default_allow` false each exception allows a request within its access; with it true
/// each denies a request for any of its access. The first exception that matches decides;
/// none matching, the default does.
pub fn filter(default_allow: bool, exceptions: &[Rule]) -> Vec<Insn> {
    let mut p = vec![
        insn(LDX_MEM_W, 2, 1, 0, 0),
        insn(ALU_AND_K, 2, 0, 0, 0xffff),
        insn(LDX_MEM_W, 3, 1, 0, 0),
        insn(ALU_RSH_K, 3, 0, 0, 16),
        insn(LDX_MEM_W, 4, 1, 4, 0),
        insn(LDX_MEM_W, 5, 1, 8, 0),
    ];
    const ALL: u32 = ACC_MKNOD | ACC_READ | ACC_WRITE;
    for r in exceptions {
        // The tests, each a jump to the next block on a mismatch (offsets filled in below).
        let mut block: Vec<Insn> = Vec::new();
        let mut jumps: Vec<usize> = Vec::new();
        if let Some(ty) = r.ty {
            jumps.push(block.len());
            block.push(insn(JMP_JNE_K, 2, 0, 0, ty as i32));
        }
        if !default_allow && r.access & ALL != ALL {
            // An allow: the request must be within the rule's access, (access & allowed) ==
            // access.
            block.push(insn(ALU_MOV_X, 1, 3, 0, 0));
            block.push(insn(ALU_AND_K, 1, 0, 0, r.access as i32));
            jumps.push(block.len());
            block.push(insn(JMP_JNE_X, 1, 3, 0, 0));
        } else if default_allow && r.access & ALL != ALL {
            // A deny: any of the rule's access requested, (access & denied) != 0.
            block.push(insn(ALU_MOV_X, 1, 3, 0, 0));
            block.push(insn(ALU_AND_K, 1, 0, 0, r.access as i32));
            jumps.push(block.len());
            block.push(insn(JMP_JEQ_K, 1, 0, 0, 0));
        }
        if let Some(major) = r.major {
            jumps.push(block.len());
            block.push(insn(JMP_JNE_K, 4, 0, 0, major as i32));
        }
        if let Some(minor) = r.minor {
            jumps.push(block.len());
            block.push(insn(JMP_JNE_K, 5, 0, 0, minor as i32));
        }
        block.push(insn(ALU_MOV_K, 0, 0, 0, i32::from(!default_allow)));
        block.push(insn(JMP_EXIT, 0, 0, 0, 0));
        let len = block.len();
        for j in jumps {
            // Relative to the next instruction: past the rest of this block.
            block[j].off = (len - j - 1) as i16;
        }
        p.extend(block);
    }
    p.push(insn(ALU_MOV_K, 0, 0, 0, i32::from(default_allow)));
    p.push(insn(JMP_EXIT, 0, 0, 0, 0));
    p
}

/// What the program answers for one access, by interpreting it (for the unit tests; the
/// kernel runs the real thing). Only the instructions `program` emits.
pub fn evaluate(prog: &[Insn], ty: u32, access: u32, major: u32, minor: u32) -> u32 {
    let ctx = [(access << 16) | ty, major, minor];
    let mut r = [0u32; 11];
    let mut pc = 0usize;
    loop {
        let i = prog[pc];
        let (dst, src) = ((i.regs & 0xf) as usize, (i.regs >> 4) as usize);
        pc += 1;
        match i.code {
            LDX_MEM_W => r[dst] = ctx[i.off as usize / 4],
            ALU_AND_K => r[dst] &= i.imm as u32,
            ALU_RSH_K => r[dst] >>= i.imm as u32,
            ALU_MOV_K => r[dst] = i.imm as u32,
            ALU_MOV_X => r[dst] = r[src],
            JMP_JNE_K if r[dst] != i.imm as u32 => pc += i.off as usize,
            JMP_JNE_X if r[dst] != r[src] => pc += i.off as usize,
            JMP_JEQ_K if r[dst] == i.imm as u32 => pc += i.off as usize,
            JMP_JNE_K | JMP_JNE_X | JMP_JEQ_K => {}
            JMP_EXIT => return r[0],
            c => panic!("opcode {c:#x} not emitted by program()"),
        }
    }
}

/// Load the program for `rules` and attach it to the cgroup2 directory `dir`
/// (`bpf_prog::attach`).
pub fn attach(dir: &Path, rules: &[Rule]) -> Result<(), CgroupError> {
    super::bpf_prog::attach(dir, &program(rules))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Vec<Rule> {
        vec![
            Rule {
                ty: Some(DEV_CHAR),
                major: None,
                minor: None,
                access: ACC_MKNOD,
            },
            Rule {
                ty: Some(DEV_CHAR),
                major: Some(1),
                minor: Some(3),
                access: ACC_READ | ACC_WRITE | ACC_MKNOD,
            },
            Rule {
                ty: Some(DEV_CHAR),
                major: Some(136),
                minor: None,
                access: ACC_READ | ACC_WRITE | ACC_MKNOD,
            },
        ]
    }

    #[test]
    fn the_program_allows_exactly_the_rules() {
        let p = program(&rules());
        let rw = ACC_READ | ACC_WRITE;
        assert_eq!(evaluate(&p, DEV_CHAR, rw, 1, 3), 1, "/dev/null rw");
        assert_eq!(evaluate(&p, DEV_CHAR, ACC_READ, 136, 7), 1, "/dev/pts/7");
        assert_eq!(
            evaluate(&p, DEV_CHAR, ACC_MKNOD, 10, 200),
            1,
            "mknod any char"
        );
        assert_eq!(
            evaluate(&p, DEV_CHAR, ACC_READ, 10, 200),
            0,
            "read /dev/net/tun"
        );
        assert_eq!(evaluate(&p, DEV_BLOCK, ACC_MKNOD, 8, 0), 0, "mknod a disk");
        assert_eq!(evaluate(&p, DEV_BLOCK, ACC_READ, 8, 0), 0, "read a disk");
        assert_eq!(
            evaluate(&p, DEV_CHAR, ACC_READ, 1, 4),
            0,
            "/dev/port's neighbour"
        );
        assert_eq!(evaluate(&p, DEV_CHAR, rw | ACC_MKNOD, 1, 3), 1);
    }

    #[test]
    fn no_rule_denies_everything_and_a_wildcard_rule_allows_everything() {
        let deny = program(&[]);
        assert_eq!(evaluate(&deny, DEV_CHAR, ACC_READ, 1, 3), 0);
        let all = program(&[Rule {
            ty: None,
            major: None,
            minor: None,
            access: ACC_READ | ACC_WRITE | ACC_MKNOD,
        }]);
        assert_eq!(evaluate(&all, DEV_BLOCK, ACC_WRITE, 8, 0), 1);
    }

    /// Against the kernel: the program on a cgroup2 directory of our own (below our own v2
    /// cgroup: the unified hierarchy of a hybrid host, or the only one on v2), with a shell in
    /// it that opens an allowed and a denied node. The cgroup is removed afterwards.
    #[test]
    #[ignore = "needs root and a cgroup2 hierarchy: bash tests/run runs it"]
    fn the_kernel_enforces_the_program_on_a_real_cgroup() {
        use std::process::Command;
        assert!(
            nix::unistd::geteuid().is_root(),
            "needs root (bash tests/run)"
        );
        let dir = crate::cgroups::bpf_prog::tests::own_cgroup2_dir("mdrun-devtest");
        let only_null = [Rule {
            ty: Some(DEV_CHAR),
            major: Some(1),
            minor: Some(3),
            access: ACC_READ | ACC_WRITE,
        }];
        let attached = attach(&dir, &only_null);
        let out = attached.as_ref().ok().map(|()| {
            let script = format!(
                "echo $$ > {}/cgroup.procs || exit 9; \
                 : < /dev/null && echo null-ok; \
                 (: < /dev/zero) 2>/dev/null || echo zero-denied",
                dir.display()
            );
            Command::new("sh").args(["-c", &script]).output().unwrap()
        });
        std::fs::remove_dir(&dir).unwrap_or_else(|e| panic!("rmdir {}: {e}", dir.display()));
        attached.unwrap();
        let out = out.unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{out:?}");
        assert_eq!(text.trim(), "null-ok\nzero-denied", "{out:?}");
    }

    #[test]
    fn jumps_stay_inside_the_program() {
        let p = program(&rules());
        for (pc, i) in p.iter().enumerate() {
            if matches!(i.code, JMP_JNE_K | JMP_JNE_X | JMP_JEQ_K) {
                assert!(pc + 1 + (i.off as usize) < p.len(), "jump at {pc} leaves");
            }
        }
    }
}

//! The end of a `run -p`: the nfnetlink socket the ports went through is closed by a
//! short-lived child, not by mdrun. Its last close waits for an RCU grace period (nf_tables'
//! transaction clean-up after the ports' removal), which must not be on the run's path.
//! Seen with strace (which system call ran in which process, in which order), not timed.

use crate::common::{TestEnv, MDRUN};
use crate::world::World;
use std::process::Command;

/// strace -f's lines as `PID CALL...`, one space between (strace pads the pid).
fn normalized(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let (pid, rest) = l.split_once(' ')?;
            Some(format!("{pid} {}", rest.trim_start()))
        })
        .collect()
}

/// mdrun's `PID socket(AF_NETLINK, ..., NETLINK_NETFILTER) = FD` (the first container on
/// the network runs `nft` too, which has one of its own): (pid, fd).
fn netfilter_socket(trace: &[&str]) -> (String, String) {
    let mdrun = trace[0].split_whitespace().next().unwrap();
    trace
        .iter()
        .find(|l| {
            l.starts_with(&format!("{mdrun} socket(AF_NETLINK")) && l.contains("NETLINK_NETFILTER")
        })
        .map(|l| {
            let fd = l.rsplit("= ").next().unwrap().trim().to_string();
            (mdrun.to_string(), fd)
        })
        .unwrap_or_else(|| {
            panic!(
                "no NETLINK_NETFILTER socket of mdrun in the trace:\n{}",
                trace.join("\n")
            )
        })
}

/// Index of the first line where `pid` starts `call(fd` (finished or not).
fn call_at(trace: &[&str], pid: &str, call: &str, fd: &str) -> Option<usize> {
    let start = format!("{pid} {call}({fd}");
    trace.iter().position(|l| {
        l.strip_prefix(&start).is_some_and(|rest| {
            rest.starts_with(')') || rest.starts_with(' ') || rest.starts_with(',')
        })
    })
}

/// The pid the clone at `at` returned: on its line, or on its `<... clone resumed>` line
/// when strace split it (`<unfinished ...>`: another process's call came in between).
fn clone_child<'a>(trace: &[&'a str], at: usize, pid: &str) -> Option<&'a str> {
    let done = if trace[at].ends_with("<unfinished ...>") {
        let resumed = format!("{pid} <... clone resumed>");
        *trace[at..].iter().find(|l| l.starts_with(&resumed))?
    } else {
        trace[at]
    };
    let (_, ret) = done.rsplit_once("= ")?;
    ret.split_whitespace().next()
}

#[test]
fn a_clone_split_by_strace_still_names_its_child() {
    // As seen in a CI run: the child's first call came before the clone's return.
    let lines = normalized(
        "9153  clone(child_stack=0x55aa11ae6740, flags=CLONE_VM <unfinished ...>\n\
         9165  close_range(0, 2, 0 <unfinished ...>\n\
         9153  <... clone resumed>)              = 9165\n",
    );
    let trace: Vec<&str> = lines.iter().map(String::as_str).collect();
    assert_eq!(clone_child(&trace, 0, "9153"), Some("9165"));
    let whole = ["9153 clone(child_stack=0x1, flags=CLONE_VM) = 9170"];
    assert_eq!(clone_child(&whole, 0, "9153"), Some("9170"));
}

#[test]
fn the_ports_socket_is_closed_by_a_short_lived_child_after_mdrun_let_go() {
    let world = World::new();
    let env = TestEnv::new();
    world.enter(&env);
    let trace_file = env.path("strace.txt");
    let out = Command::new("nsenter")
        .args([
            "-t",
            &world.host.id().to_string(),
            "-n",
            "--",
            "strace",
            "-f",
            "-o",
        ])
        .arg(&trace_file)
        .args([
            "-e",
            "trace=socket,close,close_range,clone,clone3,read,exit,exit_group",
            MDRUN,
        ])
        .args([
            "run",
            "--rm",
            "--network",
            "bridge",
            "-p",
            "8080:80",
            "busybox",
            "true",
        ])
        .env("MDRUN_CONFIG", &env.config)
        .current_dir(&env.dir)
        .output()
        .expect("strace (apt-get install strace)");
    assert!(
        out.status.success(),
        "strace mdrun run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&trace_file).unwrap();
    let lines = normalized(&text);
    let trace: Vec<&str> = lines.iter().map(String::as_str).collect();
    let (mdrun, fd) = netfilter_socket(&trace);
    // mdrun makes a child sharing its memory (no copy of its page tables) ... (not a
    // posix_spawn's CLONE_VM|CLONE_VFORK child: the first container on a network runs `nft`)
    let clone_at = trace
        .iter()
        .position(|l| {
            l.starts_with(&format!("{mdrun} clone("))
                && l.contains("CLONE_VM")
                && !l.contains("CLONE_VFORK")
        })
        .unwrap_or_else(|| panic!("mdrun made no CLONE_VM child:\n{text}"));
    let child = clone_child(&trace, clone_at, &mdrun)
        .unwrap_or_else(|| panic!("mdrun's clone never returned:\n{text}"));
    // ... closes its own copy of the socket first ...
    let ours = call_at(&trace[clone_at..], &mdrun, "close", &fd)
        .unwrap_or_else(|| panic!("mdrun did not close its copy of fd {fd}:\n{text}"));
    // ... and the child closes the last one after that, then exits.
    let theirs = call_at(&trace[clone_at..], child, "close", &fd)
        .unwrap_or_else(|| panic!("the child {child} did not close fd {fd}:\n{text}"));
    assert!(
        ours < theirs,
        "the child closed the socket before mdrun did:\n{text}"
    );
    assert!(
        trace
            .iter()
            .any(|l| l.starts_with(&format!("{child} +++ exited with 0"))),
        "the child did not exit:\n{text}"
    );
    // Its other descriptors it let go at once: it holds nothing of mdrun's but the socket
    // and its end of the pipe it waits on.
    assert!(
        trace[clone_at..]
            .iter()
            .any(|l| l.starts_with(&format!("{child} close_range("))),
        "the child kept mdrun's other descriptors:\n{text}"
    );
    world.assert_no_container_traces();
}

//! `mdrun completion bash|zsh|fish` loads in the shell; `mdrun __man DIR` writes man pages
//! that render.

use crate::common::*;
use std::process::Command;

#[test]
fn bash_completion_loads_and_man_pages_render() {
    let env = TestEnv::bare();
    let script = format!("source <({MDRUN} completion bash) && complete -p mdrun");
    let out = Command::new("bash").args(["-c", &script]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        text.starts_with("complete ") && text.trim_end().ends_with(" mdrun"),
        "{text}"
    );
    for shell in ["zsh", "fish"] {
        let out = env.mdrun(&["completion", shell]);
        out.assert_ok();
        assert!(
            out.stdout.contains("pause") && out.stdout.contains("stats"),
            "{shell}"
        );
    }
    env.mdrun(&["completion", "tcsh"])
        .assert_one_line_error(125);

    let dir = env.path("man");
    std::fs::create_dir(&dir).unwrap();
    env.mdrun(&["__man", dir.to_str().unwrap()]).assert_ok();
    for page in [
        "mdrun.1",
        "mdrun-run.1",
        "mdrun-pause.1",
        "mdrun-cp.1",
        "mdrun-stats.1",
    ] {
        let path = dir.join(page);
        let out = Command::new("man")
            .args(["-l", path.to_str().unwrap()])
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "man -l {page}: {out:?}");
        assert!(
            text.contains("NAME") && text.contains("SYNOPSIS"),
            "{page}: {text}"
        );
    }
    assert!(
        !dir.join("mdrun-__man.1").exists(),
        "the hidden verb has no page"
    );
    env.mdrun(&["__man", "/nonexistent"])
        .assert_one_line_error(125);
    env.assert_clean();
}

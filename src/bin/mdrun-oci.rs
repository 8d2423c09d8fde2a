//! `mdrun-oci`: mdrun as an OCI runtime, driven through runc's command line (podman's
//! conmon, containerd's shim, runtime-tools). Everything is in the library: `mdrun::oci`.

fn main() {
    std::process::exit(mdrun::oci::main())
}

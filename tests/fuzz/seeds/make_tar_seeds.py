#!/usr/bin/env python3
# Writes the tar_entries seeds 00-16 (python3 make_tar_seeds.py tar_entries): a flag byte
# (see fuzz_targets/tar_entries.rs: 1 = fix header checksums, 2 = `load` instead of
# `import`) and an archive. 17-oci-archive is `mdrun save` of a small imported image.
import tarfile, io, gzip, hashlib, json, os, sys, subprocess
tarfile.RECORDSIZE = 1024
out = sys.argv[1]
os.makedirs(out, exist_ok=True)

def ti(name, kind=tarfile.REGTYPE, data=b"", link="", mode=0o644, **kw):
    t = tarfile.TarInfo(name)
    t.type = kind
    t.mode = mode
    t.mtime = 1700000000
    t.linkname = link
    t.size = len(data) if kind == tarfile.REGTYPE else 0
    for k, v in kw.items():
        setattr(t, k, v)
    return t, data

def archive(entries, fmt=tarfile.GNU_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for t, data in entries:
            tf.addfile(t, io.BytesIO(data) if t.type == tarfile.REGTYPE else None)
    return buf.getvalue()

def put(name, flags, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([flags]) + data)

D = tarfile.DIRTYPE
rootfs = [
    ti("./", D, mode=0o755),
    ti("etc/", D, mode=0o755),
    ti("etc/passwd", data=b"root:x:0:0:root:/root:/bin/sh\n"),
    ti("bin/", D, mode=0o755),
    ti("bin/busybox", data=b"\x7fELF", mode=0o755),
    ti("bin/sh", tarfile.SYMTYPE, link="busybox"),
    ti("bin/ls", tarfile.LNKTYPE, link="bin/busybox"),
    ti("dev/", D),
    ti("dev/null", tarfile.CHRTYPE, mode=0o666, devmajor=1, devminor=3),
    ti("dev/fifo", tarfile.FIFOTYPE),
    ti("tmp/", D, mode=0o1777),
    ti("usr/bin/suid", data=b"x", mode=0o4755, uid=1000, gid=1000),
    ti(".wh.gone"),
    ti("d/.wh..wh..opq"),
]
put("00-rootfs", 1, archive(rootfs))
# PAX: a long name, a long link target, an xattr.
pax = [ti("p/" + "n" * 150, data=b"long"),
       ti("p/l", tarfile.SYMTYPE, link="t" * 120),
       ti("p/x", data=b"x", pax_headers={"SCHILY.xattr.user.mdrun": "1", "mtime": "1.5"})]
put("01-pax", 1, archive(pax, tarfile.PAX_FORMAT))
put("02-gnu-longname", 1, archive([ti("g/" + "m" * 200, data=b"gnu"),
                                    ti("g/h", tarfile.LNKTYPE, link="g/" + "m" * 200)]))
# Hostile paths: `..`, absolute, through a planted symlink, hard links out.
put("03-dotdot", 1, archive([ti("../outside/x", data=b"x")]))
put("04-dotdot-inner", 1, archive([ti("a/../../outside/z", data=b"z")]))
put("05-absolute", 1, archive([ti("/mdrun-fuzz-escape/y", data=b"y")]))
put("06-symlink-out", 1, archive([ti("l", tarfile.SYMTYPE, link="../../../../../outside"),
                                  ti("l/x", data=b"x")]))
put("07-symlink-abs", 1, archive([ti("m", tarfile.SYMTYPE, link="/mdrun-fuzz-escape"),
                                  ti("m/y", data=b"y"), ti("m/", D)]))
put("08-hardlink-out", 1, archive([ti("h", tarfile.LNKTYPE, link="../outside/x"),
                                   ti("h2", tarfile.LNKTYPE, link="/etc/passwd")]))
put("09-replace-dir-with-link", 1, archive([ti("d/", D), ti("d/f", data=b"f"),
                                            ti("d", tarfile.SYMTYPE, link="/"),
                                            ti("d/g", data=b"g")]))
put("10-root-not-dir", 1, archive([ti("./", data=b"")]))
whole = archive(rootfs)
put("11-truncated", 1, whole[:len(whole) // 2 + 100])
put("12-gzip", 0, gzip.compress(archive(rootfs[:6]), mtime=0))
try:
    z = subprocess.run(["zstd", "-q", "-c"], input=archive(rootfs[:6]), capture_output=True, check=True).stdout
    put("13-zstd", 0, z)
except Exception as e:
    print("no zstd:", e)
put("14-empty-archive", 1, b"\0" * 1024)
# A docker archive (`load`): the layer hashes to its diff_id.
layer = archive([ti("etc/", D), ti("etc/hostname", data=b"h\n"), ti(".wh.old"),
                 ti("var/.wh..wh..opq"), ti("var/new", data=b"n")])
diff = hashlib.sha256(layer).hexdigest()
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "config": {"Env": ["A=b"], "Cmd": ["sh"], "WorkingDir": "/"},
                     "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff]}}).encode()
manifest = json.dumps([{"Config": "config.json", "RepoTags": ["docker.io/library/seed:1", "Bad Name"],
                        "Layers": ["l1/layer.tar"]}]).encode()
put("15-docker-archive", 3, archive([ti("manifest.json", data=manifest), ti("config.json", data=config),
                                     ti("l1/", D), ti("l1/layer.tar", data=layer)]))
put("16-docker-archive-escape", 3, archive([
    ti("manifest.json", data=json.dumps([{"Config": "../config.json", "Layers": ["/etc/passwd", "s/layer.tar"]}]).encode()),
    ti("s", tarfile.SYMTYPE, link="/etc")]))

#!/usr/bin/env python3
"""POSIX behaviour checks run inside a Granary FUSE mount by fuse_test.

    python3 posix_checks.py CASE DIR

Each case exercises one area in the spirit of pjdfstest: the right result or
the right errno for every call. Prints "ok CASE" and exits 0, or raises.
"""
import errno
import os
import stat
import subprocess
import sys


def expect_errno(code, fn, *args):
    try:
        fn(*args)
    except OSError as e:
        assert e.errno == code, f"{fn.__name__}{args}: errno {errno.errorcode.get(e.errno)}, expected {errno.errorcode[code]}"
        return
    raise AssertionError(f"{fn.__name__}{args}: succeeded, expected {errno.errorcode[code]}")


def case_errnos(d):
    f = os.path.join(d, "f")
    sub = os.path.join(d, "sub")
    with open(f, "wb") as fh:
        fh.write(b"hello")
    os.mkdir(sub)
    with open(os.path.join(sub, "x"), "wb"):
        pass
    expect_errno(errno.ENOENT, os.stat, os.path.join(d, "missing"))
    expect_errno(errno.ENOENT, os.open, os.path.join(d, "missing", "x"), os.O_RDONLY)
    expect_errno(errno.EEXIST, os.mkdir, sub)
    expect_errno(errno.EEXIST, os.open, f, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    expect_errno(errno.ENOTEMPTY, os.rmdir, sub)
    expect_errno(errno.EISDIR, os.open, sub, os.O_WRONLY)
    expect_errno(errno.EISDIR, os.unlink, sub) if False else None  # Linux gives EISDIR for unlink(dir)
    try:
        os.unlink(sub)
        raise AssertionError("unlink of a folder succeeded")
    except OSError as e:
        assert e.errno in (errno.EISDIR, errno.EPERM), e
    expect_errno(errno.ENOTDIR, os.mkdir, os.path.join(f, "x"))
    expect_errno(errno.ENOTDIR, os.rmdir, f)
    expect_errno(errno.ENOTDIR, os.listdir, f)
    expect_errno(errno.ENAMETOOLONG, os.mkdir, os.path.join(d, "n" * 256))
    os.mkdir(os.path.join(d, "n" * 255))  # the longest name works
    expect_errno(errno.EPERM, os.link, f, os.path.join(d, "hardlink"))
    # rename rules
    os.mkdir(os.path.join(d, "empty"))
    expect_errno(errno.EISDIR, os.rename, f, os.path.join(d, "empty"))
    expect_errno(errno.ENOTDIR, os.rename, os.path.join(d, "empty"), f)
    expect_errno(errno.ENOTEMPTY, os.rename, os.path.join(d, "empty"), sub)
    expect_errno(errno.EINVAL, os.rename, sub, os.path.join(sub, "inside"))
    # EFBIG: past the largest file size (2^62)
    fd = os.open(f, os.O_WRONLY)
    try:
        expect_errno(errno.EFBIG, os.pwrite, fd, b"x", 1 << 62)
    finally:
        os.close(fd)
    # ENOENT for a dangling symlink followed
    os.symlink("nowhere", os.path.join(d, "dangling"))
    expect_errno(errno.ENOENT, os.stat, os.path.join(d, "dangling"))
    assert os.readlink(os.path.join(d, "dangling")) == "nowhere"
    expect_errno(errno.EINVAL, os.readlink, f)
    expect_errno(errno.EEXIST, os.symlink, "x", f)


def as_user(uid, gid, fn):
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            fn()
            code = 0
        except BaseException as e:  # report and exit non-zero
            print(f"as uid {uid}: {e!r}", file=sys.stderr)
        os._exit(code)
    _, st = os.waitpid(pid, 0)
    assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, f"check as uid {uid} failed"


def case_permissions(d):
    nobody = 65534
    priv = os.path.join(d, "private")
    os.mkdir(priv, 0o700)
    with open(os.path.join(priv, "secret"), "wb") as fh:
        fh.write(b"s")
    pub = os.path.join(d, "public")
    os.mkdir(pub, 0o755)
    ro = os.path.join(pub, "readonly")
    with open(ro, "wb") as fh:
        fh.write(b"r")
    os.chmod(ro, 0o644)
    shared = os.path.join(d, "shared")
    os.mkdir(shared)
    os.chmod(shared, 0o777)  # mkdir applies the umask
    mine = os.path.join(d, "mine")
    os.mkdir(mine, 0o755)
    os.chown(mine, nobody, nobody)
    st = os.stat(mine)
    assert st.st_uid == nobody and st.st_gid == nobody, st
    os.chmod(pub, 0o750)
    assert stat.S_IMODE(os.stat(pub).st_mode) == 0o750
    os.chmod(pub, 0o755)

    def checks():
        expect_errno(errno.EACCES, os.listdir, priv)
        expect_errno(errno.EACCES, os.stat, os.path.join(priv, "secret"))
        expect_errno(errno.EACCES, os.open, ro, os.O_WRONLY)
        expect_errno(errno.EACCES, os.mkdir, os.path.join(pub, "x"))
        expect_errno(errno.EACCES, os.unlink, ro)
        expect_errno(errno.EPERM, os.chmod, ro, 0o777)
        expect_errno(errno.EPERM, os.chown, ro, nobody, nobody)
        with open(ro, "rb") as fh:
            assert fh.read() == b"r"
        # Files a user creates are theirs.
        p = os.path.join(shared, "by-nobody")
        with open(p, "wb") as fh:
            fh.write(b"n")
        st = os.stat(p)
        assert st.st_uid == nobody and st.st_gid == nobody, (st.st_uid, st.st_gid)
        os.chmod(p, 0o600)
        os.mkdir(os.path.join(mine, "sub"))

    as_user(nobody, nobody, checks)
    # Sticky folder: others' files cannot be removed.
    os.chmod(shared, 0o1777)
    with open(os.path.join(shared, "roots"), "wb"):
        pass
    as_user(nobody, nobody, lambda: expect_errno(errno.EPERM, os.unlink, os.path.join(shared, "roots")))


def case_fileio(d):
    p = os.path.join(d, "io.bin")
    with open(p, "wb") as fh:
        fh.write(b"A" * 3_000_000)
    with open(p, "r+b") as fh:
        fh.seek(1_000_000)
        fh.write(b"B" * 10)
        fh.seek(0, 2)
        fh.write(b"tail")
        fh.seek(999_995)
        got = fh.read(20)
        assert got == b"A" * 5 + b"B" * 10 + b"A" * 5, got
    with open(p, "rb") as fh:
        data = fh.read()
    assert len(data) == 3_000_004 and data[1_000_000:1_000_010] == b"B" * 10 and data.endswith(b"Atail")
    os.truncate(p, 1_000_005)
    assert os.stat(p).st_size == 1_000_005
    with open(p, "rb") as fh:
        data = fh.read()
    assert data == b"A" * 1_000_000 + b"B" * 5
    # Growing truncate reads as zeros.
    os.truncate(p, 2_000_000)
    with open(p, "rb") as fh:
        fh.seek(1_000_005)
        assert fh.read() == b"\0" * 999_995
    # ftruncate on an open handle, then writes past the end (a hole).
    fd = os.open(p, os.O_RDWR)
    os.ftruncate(fd, 10)
    os.pwrite(fd, b"Z", 5_000_000)
    os.close(fd)
    with open(p, "rb") as fh:
        data = fh.read()
    assert len(data) == 5_000_001 and data[:10] == b"A" * 10 and data[10:5_000_000] == b"\0" * 4_999_990
    # O_TRUNC and O_APPEND
    with open(p, "wb") as fh:
        fh.write(b"new")
    with open(p, "ab") as fh:
        fh.write(b"+more")
    with open(p, "rb") as fh:
        assert fh.read() == b"new+more"
    # utimes
    os.utime(p, (1_000_000_000, 1_100_000_000))
    st = os.stat(p)
    assert int(st.st_mtime) == 1_100_000_000, st.st_mtime


def case_open_unlink(d):
    p = os.path.join(d, "victim")
    with open(p, "wb") as fh:
        fh.write(os.urandom(1) * 0 + b"v" * 2_500_000)
    fh = open(p, "rb")
    os.unlink(p)
    assert not os.path.exists(p)
    data = fh.read()
    assert data == b"v" * 2_500_000, len(data)
    fh.seek(1234)
    assert fh.read(3) == b"vvv"
    fh.close()
    # Rename over a file that is open: the reader keeps the old contents.
    a = os.path.join(d, "a")
    b = os.path.join(d, "b")
    with open(a, "wb") as f1:
        f1.write(b"old" * 1000)
    with open(b, "wb") as f2:
        f2.write(b"new")
    reader = open(a, "rb")
    os.rename(b, a)
    assert reader.read() == b"old" * 1000
    reader.close()
    with open(a, "rb") as f3:
        assert f3.read() == b"new"
    # An unlinked file open for writing can still be written and read back.
    w = open(os.path.join(d, "w"), "w+b")
    os.unlink(os.path.join(d, "w"))
    w.write(b"x" * 100_000)
    w.flush()
    w.seek(0)
    assert w.read() == b"x" * 100_000
    w.close()


def case_two_processes(d):
    p = os.path.join(d, "shared.txt")
    writer = subprocess.run([sys.executable, "-c",
                             f"open({p!r}, 'wb').write(b'from-writer' * 100000)"])
    assert writer.returncode == 0
    reader = subprocess.run([sys.executable, "-c",
                             f"import sys; d = open({p!r}, 'rb').read(); sys.exit(0 if d == b'from-writer' * 100000 else 1)"])
    assert reader.returncode == 0, "second process did not read what the first wrote"
    # Two handles in two processes at once: writes of one are seen by the other.
    fd = os.open(p, os.O_RDWR)
    os.pwrite(fd, b"PATCH", 0)
    out = subprocess.run([sys.executable, "-c",
                          f"import os; fd = os.open({p!r}, os.O_RDONLY); print(os.pread(fd, 5, 0).decode())"],
                         capture_output=True, text=True)
    os.close(fd)
    assert out.stdout.strip() == "PATCH", out.stdout


def case_xattr(d):
    p = os.path.join(d, "xa")
    with open(p, "wb") as fh:
        fh.write(b"x" * 10)
    os.setxattr(p, "user.note", b"weights v1")
    assert os.getxattr(p, "user.note") == b"weights v1"
    assert "user.note" in os.listxattr(p)
    expect_errno(errno.EEXIST, os.setxattr, p, "user.note", b"v", os.XATTR_CREATE)
    expect_errno(errno.ENODATA, os.setxattr, p, "user.other", b"v", os.XATTR_REPLACE)
    expect_errno(errno.ENODATA, os.getxattr, p, "user.missing")
    os.removexattr(p, "user.note")
    expect_errno(errno.ENODATA, os.getxattr, p, "user.note")
    assert int(os.getxattr(p, "granary.replicas")) >= 1
    assert int(os.getxattr(p, "granary.chunk_size")) >= 1 << 20
    assert os.getxattr(p, "granary.codec")
    expect_errno(errno.EPERM, os.setxattr, p, "granary.replicas", b"1")
    assert not any(n.startswith("granary.") for n in os.listxattr(p))
    os.setxattr(d, "user.folder", b"yes")
    assert os.getxattr(d, "user.folder") == b"yes"


def case_rename_flags(d):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    AT_FDCWD = -100
    a = os.path.join(d, "ra")
    b = os.path.join(d, "rb")
    open(a, "wb").write(b"A")
    open(b, "wb").write(b"B")

    def renameat2(src, dst, flags):
        r = libc.renameat2(AT_FDCWD, src.encode(), AT_FDCWD, dst.encode(), flags)
        return 0 if r == 0 else ctypes.get_errno()

    assert renameat2(a, b, 1) == errno.EEXIST  # RENAME_NOREPLACE
    assert renameat2(a, b, 2) == 0  # RENAME_EXCHANGE
    assert open(a, "rb").read() == b"B" and open(b, "rb").read() == b"A"
    assert renameat2(a, os.path.join(d, "nothere"), 2) == errno.ENOENT
    assert renameat2(a, os.path.join(d, "rc"), 1) == 0
    assert open(os.path.join(d, "rc"), "rb").read() == b"B"


def case_erofs(d):
    expect_errno(errno.EROFS, os.mkdir, os.path.join(d, "nope"))
    expect_errno(errno.EROFS, os.open, os.path.join(d, "nope"), os.O_CREAT | os.O_WRONLY)


def main():
    case, d = sys.argv[1], sys.argv[2]
    os.makedirs(d, exist_ok=True)
    globals()["case_" + case](d)
    print("ok", case)


if __name__ == "__main__":
    main()

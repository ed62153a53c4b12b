namespace Stargate.Host.Tests.Support;

/// <summary>
/// POSIX conformance programs (Python) that print one line per step: the result, or the errno
/// name. The same program on the host's tmpfs and on a host mount of a zone must print the
/// same lines: that is how the host mount is held to "behaves as tmpfs".
/// </summary>
internal static class PosixScript
{
    /// <summary>step(name, f): runs f and prints its name with the result ("ok" for None) or the errno's name.</summary>
    private const string Steps = """

        def step(name, f):
            try:
                v = f()
                print(name, "ok" if v is None else v)
            except OSError as e:
                print(name, errno.errorcode.get(e.errno, e.errno))

        """;

    /// <summary>As root, in an empty directory (argv[1]): files, names, links, modes, times, xattrs, devices, locks.</summary>
    public const string Root = """
        import errno, fcntl, os, signal, stat, struct, sys, time
        os.chdir(sys.argv[1])
        """ + Steps + """
        def write(path, data, offset=0, flags=os.O_WRONLY):
            fd = os.open(path, flags)
            try:
                return os.pwrite(fd, data, offset)
            finally:
                os.close(fd)

        def read(path):
            with open(path, "rb") as f:
                return f.read()

        def mode(path):
            return oct(os.lstat(path).st_mode)

        st = lambda p: os.lstat(p)
        step("create", lambda: os.close(os.open("f", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o640)))
        step("create again", lambda: os.open("f", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o640))
        step("mode", lambda: mode("f"))
        step("write", lambda: write("f", b"hello world"))
        step("read", lambda: read("f"))
        step("append", lambda: write("f", b"!", 0, os.O_WRONLY | os.O_APPEND) and read("f"))
        step("write far", lambda: (write("f", b"x", (1 << 20) + 5), st("f").st_size)[1])
        step("hole reads zero", lambda: read("f")[12:(1 << 20) + 5] == bytes((1 << 20) - 7))
        step("truncate down", lambda: (os.truncate("f", 5), read("f"))[1])
        step("truncate up", lambda: (os.truncate("f", 9000), read("f")[5:] == bytes(8995), st("f").st_size)[1:])
        step("open O_TRUNC", lambda: (os.close(os.open("f", os.O_WRONLY | os.O_TRUNC)), st("f").st_size)[1])
        step("rewrite", lambda: write("f", b"data"))
        step("chmod", lambda: (os.chmod("f", 0o4755), mode("f"))[1])
        step("chown", lambda: (os.chown("f", 1000, 1001), (st("f").st_uid, st("f").st_gid))[1])
        step("utime", lambda: (os.utime("f", ns=(1000000000123, 2000000000456)), st("f").st_atime_ns, st("f").st_mtime_ns)[1:])
        step("ctime moves on chmod", lambda: (lambda c: (os.chmod("f", 0o644), st("f").st_ctime_ns > c)[1])(st("f").st_ctime_ns))
        step("mtime moves on write", lambda: (lambda m: (write("f", b"D"), st("f").st_mtime_ns > m)[1])(st("f").st_mtime_ns))
        step("link", lambda: (os.link("f", "g"), st("f").st_nlink, st("g").st_ino == st("f").st_ino)[1:])
        step("link again", lambda: os.link("f", "g"))
        step("symlink", lambda: (os.symlink("f", "s"), os.readlink("s"), mode("s"))[1:])
        step("long symlink", lambda: (os.symlink("t" * 4000, "s2"), len(os.readlink("s2")))[1])
        step("mkdir", lambda: (os.mkdir("d", 0o750), mode("d"))[1])
        step("mkdir again", lambda: os.mkdir("d"))
        step("rename into dir", lambda: (os.rename("g", "d/g"), sorted(os.listdir("d")))[1])
        step("rmdir not empty", lambda: os.rmdir("d"))
        step("unlink dir", lambda: os.unlink("d"))
        step("rmdir file", lambda: os.rmdir("f"))
        step("rename file over dir", lambda: os.rename("f", "d"))
        step("rename dir over file", lambda: os.rename("d", "f"))
        step("rename dir into itself", lambda: os.rename("d", "d/sub"))
        step("mkdir e", lambda: os.mkdir("e"))
        step("rename dir over empty dir", lambda: (os.rename("e", "e2"), os.rename("e2", "d/e"), sorted(os.listdir("d")))[2])
        step("rename file over file", lambda: (os.close(os.open("h", os.O_CREAT | os.O_WRONLY, 0o600)), os.rename("h", "d/g"), st("d/g").st_nlink)[2])
        step("missing", lambda: os.stat("nope"))
        step("missing in missing", lambda: os.stat("nope/x"))
        step("file as dir", lambda: os.stat("f/x"))
        step("xattr set", lambda: os.setxattr("f", "user.k", b"v1"))
        step("xattr get", lambda: os.getxattr("f", "user.k"))
        step("xattr create exists", lambda: os.setxattr("f", "user.k", b"v2", os.XATTR_CREATE))
        step("xattr replace missing", lambda: os.setxattr("f", "user.m", b"v2", os.XATTR_REPLACE))
        step("xattr list", lambda: sorted(os.listxattr("f")))
        step("xattr remove", lambda: (os.removexattr("f", "user.k"), sorted(os.listxattr("f")))[1])
        step("xattr get missing", lambda: os.getxattr("f", "user.k"))
        step("fifo", lambda: (os.mkfifo("p", 0o600), stat.S_ISFIFO(st("p").st_mode))[1])
        step("char device", lambda: (os.mknod("c", 0o600 | stat.S_IFCHR, os.makedev(1, 3)), os.major(st("c").st_rdev), os.minor(st("c").st_rdev))[1:])
        step("block device", lambda: (os.mknod("b", 0o600 | stat.S_IFBLK, os.makedev(259, 70000)), os.major(st("b").st_rdev), os.minor(st("b").st_rdev))[1:])
        step("fallocate", lambda: (lambda fd: (os.posix_fallocate(fd, 0, 20000), os.close(fd), st("f").st_size)[2])(os.open("f", os.O_WRONLY)))
        step("unlinked but open", lambda: (lambda fd: (os.unlink("d/g"), os.pwrite(fd, b"still", 0), os.pread(fd, 5, 0), os.close(fd))[2])(os.open("d/g", os.O_RDWR)))
        def flock_conflict():
            a, b = os.open("f", os.O_RDONLY), os.open("f", os.O_RDONLY)
            try:
                fcntl.flock(a, fcntl.LOCK_EX)
                fcntl.flock(b, fcntl.LOCK_EX | fcntl.LOCK_NB)
            finally:
                os.close(a)
                os.close(b)

        step("flock", flock_conflict)
        def other_process(body):
            pid = os.fork()
            if pid == 0:
                try:
                    os._exit(body())
                except BaseException:
                    os._exit(99)
            return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

        def fcntl_conflict():
            fd = os.open("f", os.O_RDWR)
            fcntl.lockf(fd, fcntl.LOCK_EX, 10, 0)
            parent = os.getpid()
            def child():
                fd2 = os.open("f", os.O_RDWR)
                result = 0
                try:
                    fcntl.lockf(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)
                except OSError as e:
                    result |= 1 if e.errno in (errno.EAGAIN, errno.EACCES) else 0
                got = struct.unpack("hhxxxxqqixxxx", fcntl.fcntl(fd2, fcntl.F_GETLK, struct.pack("hhxxxxqqixxxx", fcntl.F_WRLCK, 0, 5, 1, 0)))
                result |= 2 if got[0] == fcntl.F_WRLCK and got[4] == parent and got[2] == 0 and got[3] == 10 else 0
                fcntl.lockf(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 10)
                return result | 4
            first = other_process(child)
            os.close(fd)
            def after_close():
                fcntl.lockf(os.open("f", os.O_RDWR), fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)
                return 7
            return first, other_process(after_close)

        def waits_for_unlock(kind):
            fd = os.open("f", os.O_RDWR)
            lock = (lambda f, how: fcntl.flock(f, how)) if kind == "flock" else (lambda f, how: fcntl.lockf(f, how, 1, 0))
            lock(fd, fcntl.LOCK_EX)
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                fd2 = os.open("f", os.O_RDWR)
                os.write(w, b"w")
                lock(fd2, fcntl.LOCK_EX)
                os._exit(5)
            os.read(r, 1)
            time.sleep(0.3)
            running = os.waitpid(pid, os.WNOHANG)[0] == 0
            lock(fd, fcntl.LOCK_UN)
            os.close(fd)
            return running, os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

        def interrupted_wait():
            fd = os.open("f", os.O_RDWR)
            fcntl.lockf(fd, fcntl.LOCK_EX, 1, 0)
            class Alarm(Exception):
                pass

            def ring(*_):
                raise Alarm()

            def child():
                # The handler raises: Python would otherwise retry the interrupted fcntl (PEP 475).
                signal.signal(signal.SIGALRM, ring)
                signal.setitimer(signal.ITIMER_REAL, 0.3)
                try:
                    fcntl.lockf(os.open("f", os.O_RDWR), fcntl.LOCK_EX, 1, 0)
                    return 1
                except Alarm:
                    return 2
            result = other_process(child)
            os.close(fd)
            return result

        step("fcntl lock", fcntl_conflict)
        step("flock waits for unlock", lambda: waits_for_unlock("flock"))
        step("fcntl lock waits for unlock", lambda: waits_for_unlock("posix"))
        step("a signal interrupts a lock wait", interrupted_wait)
        step("listing", lambda: sorted(os.listdir(".")))
        step("many names", lambda: (list(os.close(os.open("d/n%d" % i, os.O_CREAT | os.O_WRONLY, 0o600)) for i in range(300)), len(os.listdir("d")))[1])
        step("unlink many", lambda: (list(os.unlink("d/n%d" % i) for i in range(300)), sorted(os.listdir("d")))[1])
        step("rmdir", lambda: (os.rmdir("d/e"), os.rmdir("d"), "d" in os.listdir("."))[2])
        step("not a directory", lambda: os.listdir("f"))
        """;

    /// <summary>As root, before <see cref="Unprivileged"/>: a sticky world-writable "t" with root's files in it, and a private "priv".</summary>
    public const string Prepare = """
        import os, sys
        os.chdir(sys.argv[1])
        os.mkdir("t")
        os.chmod("t", 0o1777)
        with open("t/r", "w") as f:
            f.write("root's")
        os.chmod("t/r", 0o644)
        os.close(os.open("t/x", os.O_CREAT | os.O_WRONLY, 0o600))
        os.close(os.open("t/s", os.O_CREAT | os.O_WRONLY, 0o666))
        os.chmod("t/s", 0o6777)
        os.mkdir("priv", 0o700)
        """;

    /// <summary>As nobody (no groups), in the directory <see cref="Prepare"/> filled: what POSIX refuses a user, and what it lets one do.</summary>
    public const string Unprivileged = """
        import errno, os, stat, sys
        os.chdir(sys.argv[1])
        """ + Steps + """
        step("own file", lambda: os.close(os.open("t/mine", os.O_CREAT | os.O_WRONLY, 0o644)))
        step("write root's file", lambda: os.open("t/r", os.O_WRONLY))
        step("read root's private file", lambda: os.open("t/x", os.O_RDONLY))
        step("read root's file", lambda: open("t/r").read())
        step("unlink root's file in a sticky dir", lambda: os.unlink("t/r"))
        step("rename root's file in a sticky dir", lambda: os.rename("t/r", "t/r2"))
        step("chmod root's file", lambda: os.chmod("t/r", 0o777))
        step("chown own file to root", lambda: os.chown("t/mine", 0, -1))
        step("chgrp own file to a group not held", lambda: os.chown("t/mine", -1, 0))
        step("set root's file times", lambda: os.utime("t/r", (1, 1)))
        step("touch root's file", lambda: os.utime("t/r"))
        step("mkdir in root's dir", lambda: os.mkdir("nope"))
        step("list a private dir", lambda: os.listdir("priv"))
        step("ftruncate of a mode-0 file opened for writing", lambda: (lambda fd: (os.ftruncate(fd, 100), os.fstat(fd).st_size, os.close(fd))[1])(os.open("t/zero", os.O_CREAT | os.O_WRONLY, 0)))
        step("setuid own file", lambda: (os.chmod("t/mine", 0o4755), oct(os.stat("t/mine").st_mode))[1])
        step("a write to root's set-id file drops both bits", lambda: (lambda fd: (os.write(fd, b"x"), os.close(fd), oct(os.stat("t/s").st_mode))[2])(os.open("t/s", os.O_WRONLY)))
        step("a write drops setuid", lambda: (lambda fd: (os.write(fd, b"x"), os.close(fd), oct(os.stat("t/mine").st_mode))[2])(os.open("t/mine", os.O_WRONLY)))
        step("user xattr on root's file", lambda: os.setxattr("t/r", "user.a", b"1"))
        step("user xattr on own file", lambda: (os.setxattr("t/mine", "user.a", b"1"), os.getxattr("t/mine", "user.a"))[1])
        step("trusted xattr", lambda: os.setxattr("t/mine", "trusted.a", b"1"))
        step("unlink own file", lambda: os.unlink("t/mine"))
        step("listing", lambda: sorted(os.listdir("t")))
        """;
}

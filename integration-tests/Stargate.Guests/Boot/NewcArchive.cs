using System.Globalization;
using System.Text;

namespace Stargate.Guests.Boot;

/// <summary>
/// Writes a cpio archive in the "newc" format the kernel unpacks into its initramfs
/// (Documentation/driver-api/early-userspace/buffer-format.rst). Deterministic: inode numbers
/// count from 1 in the order entries are added, owner root, mtime 0.
/// Each entry: the 110-byte ASCII header ("070701" and 13 eight-digit hex fields), the name
/// and its NUL, padded to 4 bytes; then the data, padded to 4 bytes. A "TRAILER!!!" entry ends it.
/// Parents must be added before what they contain: the kernel does not create them.
/// </summary>
public sealed class NewcArchive
{
    private const int ModeDirectory = 0x4000;
    private const int ModeRegular = 0x8000;
    private const int ModeSymlink = 0xA000;
    private const int ModeCharDevice = 0x2000;

    // A List rather than a MemoryStream: nothing to dispose, and archives are small.
    private readonly List<byte> _buffer = [];
    private int _nextInode = 1;

    public NewcArchive Directory(string path, int permissions = 0x1ED /* 0755 */) =>
        Entry(path, ModeDirectory | permissions, [], nlink: 2);

    public NewcArchive File(string path, byte[] data, int permissions = 0x1A4 /* 0644 */) =>
        Entry(path, ModeRegular | permissions, data);

    public NewcArchive Symlink(string path, string target) =>
        Entry(path, ModeSymlink | 0x1FF, Encoding.UTF8.GetBytes(target));

    public NewcArchive CharDevice(string path, int major, int minor, int permissions = 0x180 /* 0600 */) =>
        Entry(path, ModeCharDevice | permissions, [], rdevMajor: major, rdevMinor: minor);

    /// <summary>The archive with its trailer; the builder can not be used after this.</summary>
    public byte[] Finish()
    {
        _nextInode = 0;
        Entry("TRAILER!!!", 0, [], nlink: 1);
        return [.. _buffer];
    }

    private NewcArchive Entry(string path, int mode, byte[] data, int nlink = 1, int rdevMajor = 0, int rdevMinor = 0)
    {
        string name = path.TrimStart('/');
        if (name.Length == 0)
        {
            throw new ArgumentException("an entry needs a name below /", nameof(path));
        }

        byte[] nameBytes = Encoding.UTF8.GetBytes(name + "\0");
        var header = new StringBuilder("070701", 110);
        foreach (long field in new long[]
        {
            _nextInode++, mode, 0 /* uid */, 0 /* gid */, nlink, 0 /* mtime */, data.Length,
            0, 0 /* dev */, rdevMajor, rdevMinor, nameBytes.Length, 0, /* check */
        })
        {
            header.Append(field.ToString("x8", CultureInfo.InvariantCulture));
        }

        _buffer.AddRange(Encoding.ASCII.GetBytes(header.ToString()));
        _buffer.AddRange(nameBytes);
        Pad();
        _buffer.AddRange(data);
        Pad();
        return this;
    }

    private void Pad()
    {
        while (_buffer.Count % 4 != 0)
        {
            _buffer.Add(0);
        }
    }
}

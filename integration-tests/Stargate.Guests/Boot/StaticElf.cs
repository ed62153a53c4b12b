using System.Buffers.Binary;

namespace Stargate.Guests.Boot;

/// <summary>Tells a static ELF64 executable from a dynamic one: a dynamic one has a PT_INTERP header.</summary>
public static class StaticElf
{
    private const uint PtInterp = 3;

    public static bool IsStatic(string path)
    {
        using var file = File.OpenRead(path);
        Span<byte> header = stackalloc byte[64];
        if (file.Read(header) < 64 || header[0] != 0x7f || header[1] != (byte)'E' || header[2] != (byte)'L' || header[3] != (byte)'F' || header[4] != 2)
        {
            return false; // not ELF64: not something the guest can run either
        }

        ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(header[32..]);
        int phentsize = BinaryPrimitives.ReadUInt16LittleEndian(header[54..]);
        int phnum = BinaryPrimitives.ReadUInt16LittleEndian(header[56..]);
        var entry = new byte[Math.Max(phentsize, 4)];
        for (int i = 0; i < phnum; i++)
        {
            file.Position = (long)phoff + ((long)i * phentsize);
            if (file.Read(entry) < entry.Length)
            {
                return false;
            }

            if (BinaryPrimitives.ReadUInt32LittleEndian(entry) == PtInterp)
            {
                return false;
            }
        }

        return true;
    }
}

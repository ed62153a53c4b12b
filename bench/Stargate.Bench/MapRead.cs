using System.Diagnostics;
using System.Runtime.InteropServices;
using Stargate.Host.Zones;

namespace Stargate.Bench;

/// <summary>
/// `stargate-bench --map-read MIB RUNS`: the zero-copy API (ZoneFileMapping) against a plain
/// memory copy, in this process. A file of MIB MiB is written into a zone of its own in
/// /dev/shm; each run copies it into one prefaulted buffer three ways: from anonymous memory
/// of the same size (the limit), through the mapping (the zone's own pages, no call), and
/// with FileData.Read (the library's copy, extent by extent). Prints one Markdown row per
/// way: the median GiB/s with min-max, and the ratio to the plain copy.
/// </summary>
public static class MapRead
{
    public static int Run(int mib, int runs, TextWriter output)
    {
        string work = Path.Combine("/dev/shm", $"stargate-bench-map.{Environment.ProcessId}");
        Directory.CreateDirectory(work);
        try
        {
            ulong bytes = (ulong)mib << 20;
            string zonePath = Path.Combine(work, "map.zone");
            Zone.Format(zonePath, System.Numerics.BitOperations.RoundUpToPowerOf2(bytes + (bytes / 4) + (64UL << 20)));
            using var zone = Zone.Open(zonePath, ZoneAccess.ReadWrite, "stargate-bench");
            ulong ino = zone.Names.CreateFile("/big");
            var block = new byte[1 << 20];
            Random.Shared.NextBytes(block);
            for (ulong off = 0; off < bytes; off += (ulong)block.Length)
            {
                zone.Files.Write(ino, off, block);
            }

            using var mapping = ZoneFileMapping.Map(zone, "/big", writable: false);
            var plain = GC.AllocateUninitializedArray<byte>((int)Math.Min(bytes, int.MaxValue - 64), pinned: true);
            var target = GC.AllocateUninitializedArray<byte>(plain.Length, pinned: true);
            plain.AsSpan().Fill(1);
            target.AsSpan().Fill(2);
            int length = plain.Length;
            var ways = new (string Name, Action Copy)[]
            {
                ("plain memory copy (anonymous memory to a buffer)", () => plain.AsSpan().CopyTo(target)),
                ("zero-copy mapping (ZoneFileMapping, copied to a buffer)", () => mapping.Span(0, length).CopyTo(target)),
                ("library read (FileData.Read into a buffer)", () => zone.Files.Read(ino, 0, target.AsSpan(0, length))),
            };
            var seconds = ways.ToDictionary(w => w.Name, _ => new List<double>());
            foreach (var way in ways)
            {
                way.Copy();  // untimed: first touches and JIT
            }

            for (int run = 0; run < runs; run++)
            {
                foreach (var way in ways)
                {
                    var clock = Stopwatch.StartNew();
                    way.Copy();
                    seconds[way.Name].Add(clock.Elapsed.TotalSeconds);
                }
            }

            double gib = length / (double)(1 << 30);
            double Median(List<double> s) => s.Order().ElementAt(s.Count / 2);
            double limit = gib / Median(seconds[ways[0].Name]);
            output.WriteLine($"| way ({mib} MiB, median of {runs}) | GiB/s | min-max GiB/s | ÷ plain copy |");
            output.WriteLine("| :-- | --: | --: | --: |");
            foreach (var way in ways)
            {
                var s = seconds[way.Name];
                double rate = gib / Median(s);
                output.WriteLine($"| {way.Name} | {rate:F2} | {gib / s.Max():F2}-{gib / s.Min():F2} | {rate / limit:F3}x |");
            }

            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}

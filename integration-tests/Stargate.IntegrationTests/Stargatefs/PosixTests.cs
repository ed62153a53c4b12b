using Stargate.IntegrationTests.Guest;
using Xunit.Abstractions;

namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>
/// What a program expects of a local file system: the guest tool sgposix runs the same cases
/// (mapped stores into holes, copies, device nodes, sparse files, fallocate, SEEK_DATA,
/// O_TMPFILE, rename and link rules, times, credentials: guest-module-templates/tools/sgposix.c)
/// on the guest's own tmpfs and on stargatefs, and every result must be the same, except the
/// few where stargatefs differs on purpose (<see cref="Differences"/>, each with its reason, as
/// docs/guest-module.md lists them).
/// </summary>
public sealed class PosixTests(ITestOutputHelper output)
{
    /// <summary>
    /// "CASE KEY" → the result stargatefs must give there instead of tmpfs's (by occurrence of
    /// the key in the case's line; one value: every occurrence), and why.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, (string[] Ours, string Why)> Differences = new Dictionary<string, (string[], string)>
    {
        ["rename whiteout"] = (["EINVAL"], "RENAME_WHITEOUT (overlayfs's upper layers) is refused with EINVAL: the host's rename makes no whiteout in the same change"),
        ["sparse blocks"] = (["32"], "st_blocks counts a file's page-table pages too (as ext4 counts its indirect blocks): 8 per 4 KiB table page"),
        ["fallocate blocks"] = (["2056", "4112", "3848", "3848"], "st_blocks counts a file's page-table pages too (as ext4 counts its indirect blocks)"),
        ["seek_data_hole hole1"] = (["2097152"], "writes allocate ahead (a power of two of pages under 2 MiB, whole chunks above), and allocated pages are data"),
        ["seek_data_hole data2"] = (["1056768"], "writes allocate ahead, so the data run of hole1 reaches past this offset"),
        ["zero_range zero"] = (["ok"], "FALLOC_FL_ZERO_RANGE works as on ext4; tmpfs refuses it (EOPNOTSUPP)"),
        ["zero_range after"] = (["1048576:2d1a0ff32e6af075"], "ZERO_RANGE works (the contents are checked by zeros=)"),
        ["zero_range zeros"] = (["ok"], "ZERO_RANGE works: the range reads as zeros and its neighbours are kept"),
        ["zero_range zero_extend"] = (["ok"], "ZERO_RANGE works, and past the end of the file it extends it, as on ext4"),
        ["zero_range size"] = (["1048666"], "ZERO_RANGE past the end extends the file, as on ext4"),
        ["zero_range zero_keep"] = (["ok"], "ZERO_RANGE with KEEP_SIZE works, as on ext4"),
        ["zero_range size2"] = (["1048666"], "ZERO_RANGE with KEEP_SIZE keeps the size (the extension came from zero_extend)"),
    };

    [SkippableTheory, MatrixKernels(KernelSuite.Core)]
    public void EveryCase_GivesTheResultsOfTheGuestsTmpfs(string kernelId)
    {
        var kernel = ModuleKernel.RequireOrSkip(kernelId);
        using var served = ServedZone.Start(kernel, guests: 1, output);
        var g = served.Guests[0];
        g.Exec("mkdir -p /tmp/ref && mount -t tmpfs tmpfs /tmp/ref && mkdir /mnt/posix");
        var reference = g.Exec("sgposix /tmp/ref").Lines;
        var actual = g.Exec("sgposix /mnt/posix").Lines;
        output.WriteLine("tmpfs:\n" + string.Join('\n', reference) + "\nstargatefs:\n" + string.Join('\n', actual));
        output.WriteLine("service stderr:\n" + served.Server.Stderr);

        var unexplained = Compare(reference, actual).Where(d => !Expected(d)).ToList();
        g.Check(unexplained.Count == 0, "stargatefs differs from tmpfs:\n" + string.Join('\n', unexplained.Select(d => d.Text)));
        g.Exec("rm -r /mnt/posix");
        served.Finish();
    }

    /// <summary>One result that differs: "CASE KEY", both values, stargatefs's value and which occurrence of the key in the line it is.</summary>
    public sealed record Difference(string Key, string Text, string Ours = "", int Occurrence = 0);

    /// <summary>Whether @d is a listed difference with the result stargatefs must give.</summary>
    public static bool Expected(Difference d) =>
        Differences.TryGetValue(d.Key, out var listed)
        && (listed.Ours.Length == 1 ? listed.Ours[0] : d.Occurrence < listed.Ours.Length ? listed.Ours[d.Occurrence] : null) == d.Ours;

    /// <summary>
    /// The differing results of two sgposix outputs, word by word within each case's line (a
    /// key may come more than once in a line: the n-th is compared with the n-th); a case or a
    /// word missing on one side is a difference too.
    /// </summary>
    public static IEnumerable<Difference> Compare(IReadOnlyList<string> reference, IReadOnlyList<string> actual)
    {
        var theirs = reference.Select(Words).ToDictionary(w => w.Case);
        var ours = actual.Select(Words).ToDictionary(w => w.Case);
        foreach (var name in theirs.Keys.Union(ours.Keys))
        {
            if (!theirs.TryGetValue(name, out var t) || !ours.TryGetValue(name, out var o))
            {
                yield return new Difference($"{name} *", $"{name}: ran on {(theirs.ContainsKey(name) ? "tmpfs" : "stargatefs")} only");
                continue;
            }

            for (int i = 0; i < Math.Max(t.Results.Count, o.Results.Count); i++)
            {
                var (tk, tv) = i < t.Results.Count ? t.Results[i] : ("(none)", "");
                var (ok, ov) = i < o.Results.Count ? o.Results[i] : ("(none)", "");
                if (tk != ok)
                {
                    yield return new Difference($"{name} *", $"{name}: the steps part at word {i}: tmpfs {tk}={tv}, stargatefs {ok}={ov}");
                    break;
                }

                if (tv != ov)
                {
                    int occurrence = o.Results.Take(i).Count(r => r.Key == ok);
                    yield return new Difference($"{name} {tk}", $"{name} {tk}: tmpfs {tv}, stargatefs {ov}", ov, occurrence);
                }
            }
        }
    }

    private static (string Case, List<(string Key, string Value)> Results) Words(string line)
    {
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (words[0], words.Skip(1).Select(w => w.Split('=', 2)).Select(kv => (kv[0], kv.Length > 1 ? kv[1] : "")).ToList());
    }
}

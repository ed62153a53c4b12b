using Stargate.Interop.Generator;

namespace Stargate.Interop.Tests;

/// <summary>The checked-in files these tests compare against, found from the test binary upwards.</summary>
internal static class RepoFiles
{
    public const string HeaderPath = "interop/include/stargate_zone.h";
    public const string MirrorPath = "interop/Stargate.Interop/Abi/StargateZone.g.cs";
    public const string GoldenPath = "interop/Stargate.Interop.Tests/golden/abi-values.txt";

    public const string RegenerateCommand =
        $"dotnet run --project interop/Stargate.Interop.Generator -- {HeaderPath} {MirrorPath} " +
        "(or ./build.sh --target=Generate-Interop)";

    public static string Root { get; } = RepoPaths.FindRoot(AppContext.BaseDirectory)
        ?? throw new InvalidOperationException(
            $"no {RepoPaths.Marker} above {AppContext.BaseDirectory}: run the tests from the repository");

    public static string Header => Full(HeaderPath);

    public static string Mirror => Full(MirrorPath);

    public static string Golden => Full(GoldenPath);

    public static string IncludeDirectory => Path.GetDirectoryName(Header)!;

    private static string Full(string relative) => Path.Combine(Root, relative);
}

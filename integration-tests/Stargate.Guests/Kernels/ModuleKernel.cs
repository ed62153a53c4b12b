using Stargate.IntegrationTests.Support;

namespace Stargate.IntegrationTests.Guest;

/// <summary>
/// One kernel of the guest module's matrix, with the module built for it: the newest
/// /boot/vmlinuz-SERIES.* and artifacts/modules/RELEASE/stargatefs.ko. A test asks for it
/// with <see cref="RequireOrSkip"/>: a missing kernel or module is a skip naming what
/// provides it, never a silent pass.
/// </summary>
public sealed record ModuleKernel(string Series, string Release, string Module)
{
    /// <summary>The kernel series every guest-module test runs on: Debian 12's own and its backport.</summary>
    public static readonly IReadOnlyList<string> Matrix = ["6.1", "6.12"];

    public const string ModuleName = "stargatefs.ko";
    public const string BuildCommand = "./build.sh --target=Build-Guest-Modules";

    /// <summary>The guest environment, this series' kernel and its module, or a skip naming what is missing.</summary>
    public static ModuleKernel RequireOrSkip(string series)
    {
        GuestEnvironment.RequireOrSkip();
        string? release = GuestKernel.FindRelease(series, out string reason);
        Skip.If(release is null, reason);
        string module = Path.Combine(RepoPaths.Root, "artifacts", "modules", release!, ModuleName);
        Skip.IfNot(File.Exists(module), $"{Path.GetRelativePath(RepoPaths.Root, module)} is missing: build the guest module with {BuildCommand}");
        return new ModuleKernel(series, release!, module);
    }

    public override string ToString() => Release;
}

/// <summary>Runs a [SkippableTheory] once per kernel series of <see cref="ModuleKernel.Matrix"/>; its parameter is the series.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class KernelMatrixAttribute : Xunit.Sdk.DataAttribute
{
    public override IEnumerable<object[]> GetData(System.Reflection.MethodInfo testMethod) =>
        ModuleKernel.Matrix.Select(series => new object[] { series });
}

using Stargate.Testing;

namespace Stargate.Codegen.Tests.Support;

/// <summary>Runs the built stargate-codegen as a user would, from the checkout's root.</summary>
internal static class CodegenCommand
{
    private static readonly string Dll = Path.Combine(AppContext.BaseDirectory, "stargate-codegen.dll");

    public static ProcessRunner.Result Run(params string[] args) =>
        ProcessRunner.Run(
            Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            [Dll, .. args],
            TimeSpan.FromMinutes(5),
            Repo.Root);

    /// <summary>The lines of stderr, without empty ones.</summary>
    public static string[] ErrorLines(ProcessRunner.Result result) =>
        result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

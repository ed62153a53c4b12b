using Stargate.Testing;
using Stargate.Guests.Checkout;

namespace Stargate.Guests.Zones;

/// <summary>Runs the real `stargate` command (stargate.dll, next to the tests) to completion.</summary>
public static class StargateCli
{
    public static ProcessRunner.Result Run(params string[] args) =>
        ProcessRunner.Run("dotnet", [RepoPaths.StargateDll, .. args]);

    /// <summary>As <see cref="Run"/>; a non-zero exit throws with the command's output.</summary>
    public static ProcessRunner.Result RunChecked(params string[] args) =>
        ProcessRunner.RunChecked("dotnet", [RepoPaths.StargateDll, .. args]);
}

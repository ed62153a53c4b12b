namespace Stargate.IntegrationTests.Guest;

/// <summary>
/// Where the guest library's "cannot boot a guest here, because..." becomes a skip: the library
/// (Stargate.Guests) gives the reason, a test skips with it, never passing silently. A static
/// extension, so that a test starts with GuestEnvironment.RequireOrSkip().
/// </summary>
public static class GuestEnvironmentSkips
{
    extension(GuestEnvironment)
    {
        /// <summary>The environment, or a skip of the running [SkippableFact] naming what is missing.</summary>
        public static GuestEnvironment RequireOrSkip()
        {
            var environment = GuestEnvironment.Find(out string reason);
            Skip.If(environment is null, reason);
            return environment!;
        }
    }
}

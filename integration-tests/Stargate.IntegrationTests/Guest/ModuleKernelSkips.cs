namespace Stargate.IntegrationTests.Guest;

/// <summary>
/// Where a matrix kernel that is not here (not installed, no image, no module built) becomes a
/// skip with the reason <see cref="ModuleKernel.Find(GuestKernel, out string)"/> gives. A static
/// extension, so that a guest-module test starts with ModuleKernel.RequireOrSkip(kernelId).
/// </summary>
public static class ModuleKernelSkips
{
    extension(ModuleKernel)
    {
        /// <summary>
        /// The guest environment and the matrix kernel @kernelId (its newest installed release, its
        /// image and its module), or a skip naming what is missing and what provides it.
        /// </summary>
        public static ModuleKernel RequireOrSkip(string kernelId)
        {
            GuestEnvironment.RequireOrSkip();
            var kernel = ModuleKernel.Find(KernelMatrix.Get(kernelId), out string reason);
            Skip.If(kernel is null, reason);
            return kernel!;
        }
    }
}

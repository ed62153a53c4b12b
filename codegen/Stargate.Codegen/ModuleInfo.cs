namespace Stargate.Codegen;

/// <summary>The guest module's identity, the one place it is written.</summary>
internal static class ModuleInfo
{
    /// <summary>The module's name: stargatefs.ko, the DKMS package, the file system type.</summary>
    public const string Name = "stargatefs";

    /// <summary>
    /// The module's version (MODULE_VERSION, DKMS PACKAGE_VERSION). When changing it:
    /// 1. raise it on any change a loaded module can observe (mount options, behaviour);
    /// 2. regenerate the golden trees (STARGATE_UPDATE_GOLDEN=1, see codegen/README.md);
    /// 3. a guest with DKMS sees a new package: the old one stays until removed.
    /// </summary>
    public const string Version = "0.4.0";
}

using Stargate.Codegen.Diagnostics;
using Stargate.Codegen.Kernel;
using Stargate.Codegen.Probes;
using Stargate.Codegen.Rendering;

namespace Stargate.Codegen.Kbuild;

/// <summary>Where one kernel's build put things.</summary>
internal sealed record ModuleBuild(string Directory, string Module, string DkmsTree, string Profile);

/// <summary>
/// Builds the module for one kernel. Layout, under OUT/RELEASE/:
/// <code>
/// profile.json                    the kernel profile the configuration header was written for
/// src/                            the module's tree with stargatefs_config.h, and Kbuild's objects beside them
/// stargatefs.ko                   the module
/// dkms/stargatefs-VERSION/        the tree without a configuration header, for `dkms add`: it configures itself
/// </code>
/// </summary>
internal static class ModuleBuilder
{
    /// <summary>
    /// Writes the trees and runs Kbuild (make -C HEADERS M=src modules), as the DKMS tree's
    /// Makefile does after its configure step. Fails, with Kbuild's output, on a compile error
    /// or on any warning (the module must build clean on every kernel it supports).
    /// </summary>
    public static ModuleBuild Build(KernelHeaders headers, KernelProfile profile, TemplateFolders folders, string zoneHeader, string outRoot)
    {
        string directory = Path.GetFullPath(Path.Combine(outRoot, profile.Release));
        string src = Path.Combine(directory, "src");
        string dkmsRoot = Path.Combine(directory, "dkms");
        string dkms = Path.Combine(dkmsRoot, $"{ModuleInfo.Name}-{ModuleInfo.Version}");
        string module = Path.Combine(directory, ModuleInfo.Name + ".ko");
        string profileFile = Path.Combine(directory, "profile.json");

        System.IO.Directory.CreateDirectory(directory);
        using var exclusive = BuildLock.Acquire(directory, profile.Release);
        try
        {
            BuildLocked(headers, profile, folders, zoneHeader, src, dkms, profileFile);

            // Readers (guest tests packing the module) see the old file or the new, never a part.
            string staged = module + ".new";
            File.Copy(Path.Combine(src, ModuleInfo.Name + ".ko"), staged, overwrite: true);
            File.Move(staged, module, overwrite: true);
        }
        catch
        {
            // No module from an earlier build may pass for this one's.
            File.Delete(module);
            throw;
        }

        return new ModuleBuild(directory, module, dkms, profileFile);
    }

    private static void BuildLocked(KernelHeaders headers, KernelProfile profile, TemplateFolders folders, string zoneHeader, string src, string dkms, string profileFile)
    {
        foreach (var stale in new[] { src, Path.GetDirectoryName(dkms)! })
        {
            if (System.IO.Directory.Exists(stale))
            {
                System.IO.Directory.Delete(stale, recursive: true);
            }
        }

        File.WriteAllText(profileFile, profile.ToJson());

        var files = ModuleTree.ForKernel(folders, zoneHeader, profile);
        ModuleTree.Write(files, src);
        files.Remove(ProbeScript.ConfigHeader);
        ModuleTree.Write(files, dkms);

        var make = Make.Run(headers.Directory, src, ["modules"]);
        if (make.ExitCode != 0)
        {
            throw new CodegenException($"Kbuild failed for {profile.Release} (make exited {make.ExitCode}; its output is above): fix the module's sources in {folders.Module}", detail: make.Output);
        }

        var warnings = make.Warnings;
        if (warnings.Count > 0)
        {
            throw new CodegenException(
                $"Kbuild warned {warnings.Count} time{(warnings.Count == 1 ? "" : "s")} for {profile.Release} (the lines above): the module must build without warnings",
                detail: string.Join('\n', warnings));
        }

        if (!File.Exists(Path.Combine(src, ModuleInfo.Name + ".ko")))
        {
            throw new CodegenException($"Kbuild succeeded but wrote no {ModuleInfo.Name}.ko in {src}: Kbuild.sbn must build obj-m := {ModuleInfo.Name}.o", detail: make.Output);
        }
    }
}

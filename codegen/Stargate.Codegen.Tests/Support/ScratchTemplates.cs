namespace Stargate.Codegen.Tests.Support;

/// <summary>
/// A small module folder (probes/ and stargatefs/) in a scratch directory, for tests that must
/// not depend on the real module's C: a hello-world module, and probes written by the test.
/// </summary>
internal static class ScratchTemplates
{
    /// <summary>A probe file with its comment header (the body is C), beside a copy of the real configure.sh.</summary>
    public static void Probe(ScratchDirectory scratch, string name, string header, string? symbol, string body)
    {
        scratch.Write(
            $"probes/{name}.c",
            $"// SPDX-License-Identifier: GPL-2.0\n// Probe: {name}\n// API: {name} for the test\n// Header: {header}\n"
            + (symbol is null ? "" : $"// Symbol: {symbol}\n")
            + "#include <linux/fs.h>\n" + body + "\n");
        File.Copy(Path.Combine(Repo.Folders.Probes, "configure.sh"), scratch.Combine("probes", "configure.sh"), overwrite: true);
    }

    /// <summary>probes/probes.list.</summary>
    public static void Requirements(ScratchDirectory scratch, string list) => scratch.Write("probes/probes.list", list);

    /// <summary>
    /// The real Kbuild.sbn, dkms.conf.sbn, Makefile and probes/, with one C file in place of the
    /// module's: what a build needs, without the module's C.
    /// </summary>
    public static void HelloModule(ScratchDirectory scratch, string mainC = HelloC)
    {
        Directory.CreateDirectory(scratch.Combine("stargatefs"));
        foreach (var file in new[] { "Kbuild.sbn", "dkms.conf.sbn", "Makefile" })
        {
            File.Copy(Path.Combine(Repo.Folders.Module, file), scratch.Combine("stargatefs", file));
        }

        Directory.CreateDirectory(scratch.Combine("probes"));
        foreach (var file in Directory.GetFiles(Repo.Folders.Probes))
        {
            File.Copy(file, scratch.Combine("probes", Path.GetFileName(file)));
        }

        scratch.Write("stargatefs/main.c", mainC);
    }

    public const string HelloC = """
        // SPDX-License-Identifier: GPL-2.0
        #include <linux/module.h>
        #include "stargate_zone.h"
        #include "stargatefs_config.h"

        static int __init stargatefs_init(void)
        {
        #ifdef STARGATEFS_HAVE_VM_FLAGS_SET
        	pr_info("stargatefs: vm_flags_set\n");
        #else
        	pr_info("stargatefs: vm_flags\n");
        #endif
        	return 0;
        }

        static void __exit stargatefs_exit(void)
        {
        }

        module_init(stargatefs_init);
        module_exit(stargatefs_exit);
        MODULE_LICENSE("GPL");
        MODULE_VERSION(STARGATEFS_VERSION);

        """;
}

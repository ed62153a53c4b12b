namespace Stargate.Codegen.Tests.Support;

/// <summary>
/// A small templates folder (probes/ and stargatefs/) in a scratch directory, for tests that
/// must not depend on the real module's C: a hello-world module and probes written by the test.
/// </summary>
internal static class ScratchTemplates
{
    /// <summary>A probe file with its comment header; the body is C.</summary>
    public static void Probe(ScratchDirectory scratch, string name, string header, string? symbol, string body) =>
        scratch.Write(
            $"probes/{name}.c",
            $"// SPDX-License-Identifier: GPL-2.0\n// Probe: {name}\n// API: {name} for the test\n// Header: {header}\n"
            + (symbol is null ? "" : $"// Symbol: {symbol}\n")
            + "#include <linux/fs.h>\n" + body + "\n");

    /// <summary>probes/probes.json.</summary>
    public static void Requirements(ScratchDirectory scratch, string json) => scratch.Write("probes/probes.json", json);

    /// <summary>The real Kbuild.hbs and dkms.conf.hbs with one C template that uses an api flag.</summary>
    public static void HelloModule(ScratchDirectory scratch, string mainC = HelloC)
    {
        foreach (var file in new[] { "Kbuild.hbs", "dkms.conf.hbs" })
        {
            File.Copy(Path.Combine(Repo.Folders.Module, file), Directory.CreateDirectory(scratch.Combine("stargatefs")).FullName + "/" + file);
        }

        scratch.Write("stargatefs/main.c.hbs", mainC);
    }

    public const string HelloC = """
        // SPDX-License-Identifier: GPL-2.0
        #include <linux/module.h>
        #include "stargate_zone.h"

        static int __init stargatefs_init(void)
        {
        {{#if api.vm_flags_set}}
        	pr_info("stargatefs: vm_flags_set on {{kernel.release}}\n");
        {{else}}
        	pr_info("stargatefs: vm_flags on {{kernel.release}}\n");
        {{/if}}
        	return 0;
        }

        static void __exit stargatefs_exit(void)
        {
        }

        module_init(stargatefs_init);
        module_exit(stargatefs_exit);
        MODULE_LICENSE("GPL");
        MODULE_VERSION("{{module.version}}");

        """;
}

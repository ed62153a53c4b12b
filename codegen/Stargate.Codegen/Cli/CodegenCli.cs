using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Stargate.Codegen.Diagnostics;
using Stargate.Codegen.Kbuild;
using Stargate.Codegen.Kernel;
using Stargate.Codegen.Probes;
using Stargate.Codegen.Rendering;

namespace Stargate.Codegen.Cli;

/// <summary>
/// The `stargate-codegen` command. Exit codes: 0 done; 1 failed (diagnostics as
/// `file(line,col): error: message`, then one line saying what failed); 2 the command line
/// was wrong. Progress goes to stderr; stdout carries only results (a profile, a path).
/// </summary>
internal static class CodegenCli
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int InternalError = 70;

    public static int Run(string[] args)
    {
        var root = new RootCommand("stargate-codegen: probes a guest kernel's headers, writes the module's tree and its configuration header for it, and builds stargatefs.ko with Kbuild.")
        {
            BuildCommand(),
            RenderCommand(),
            ProbeCommand(),
        };
        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            Console.Error.WriteLine($"stargate-codegen: {result.Errors[0].Message} (see 'stargate-codegen --help')");
            return Usage;
        }

        return result.Invoke();
    }

    private static Option<string> HeadersOption() => new("--headers")
    {
        Description = "The guest kernel's headers: /usr/src/linux-headers-RELEASE (what Kbuild's -C takes).",
        Required = true,
    };

    private static Option<string> TemplatesOption() => new("--templates")
    {
        Description = "The module's folder, with probes/ and stargatefs/.",
        DefaultValueFactory = _ => "guest-module-templates",
    };

    private static Option<string> ZoneHeaderOption() => new("--zone-header")
    {
        Description = "The zone ABI header, copied into the module as include/stargate_zone.h.",
        DefaultValueFactory = _ => "interop/include/stargate_zone.h",
    };

    private static Command BuildCommand()
    {
        var headers = HeadersOption();
        var templates = TemplatesOption();
        var zoneHeader = ZoneHeaderOption();
        var output = new Option<string>("--out") { Description = "Where RELEASE/ (stargatefs.ko, src/, dkms/, profile.json) goes.", DefaultValueFactory = _ => "artifacts/modules" };
        var command = new Command("build", "Probe the kernel, write the module's tree for it and build it with Kbuild.") { headers, templates, zoneHeader, output };
        command.SetAction(r => Guard(() =>
        {
            var kernel = KernelHeaders.Open(r.GetValue(headers)!);
            var folders = new TemplateFolders(r.GetValue(templates)!);
            var profile = Probe(kernel, folders);
            var build = Timed($"{kernel.Release}: built {ModuleInfo.Name}.ko", () => ModuleBuilder.Build(kernel, profile, folders, r.GetValue(zoneHeader)!, r.GetValue(output)!));
            Console.WriteLine(build.Module);
            return Ok;
        }));
        return command;
    }

    private static Command RenderCommand()
    {
        var profileFile = new Option<string>("--profile") { Description = "A kernel profile (profile.json, as `probe` prints it).", Required = true };
        var output = new Option<string>("--out") { Description = "The directory to render into: new, empty, or an earlier render.", Required = true };
        var templates = TemplatesOption();
        var zoneHeader = ZoneHeaderOption();
        var command = new Command("render", "Write the module's tree and configuration header for a recorded kernel profile, without headers or Kbuild.") { profileFile, output, templates, zoneHeader };
        command.SetAction(r => Guard(() =>
        {
            string file = r.GetValue(profileFile)!;
            var profile = KernelProfile.Load(file);
            var folders = new TemplateFolders(r.GetValue(templates)!);
            CodegenException.ThrowIfAny(profile.CheckAgainst(ProbeScript.Names(folders.Probes), file), $"{file} does not match the probes");
            var written = ModuleTree.Write(ModuleTree.ForKernel(folders, r.GetValue(zoneHeader)!, profile), r.GetValue(output)!);
            Console.Error.WriteLine($"stargate-codegen: {profile.Release}: rendered {written.Count} files into {r.GetValue(output)}");
            return Ok;
        }));
        return command;
    }

    private static Command ProbeCommand()
    {
        var headers = HeadersOption();
        var templates = TemplatesOption();
        var command = new Command("probe", "Probe the kernel's APIs and print its profile (JSON).") { headers, templates };
        command.SetAction(r => Guard(() =>
        {
            var kernel = KernelHeaders.Open(r.GetValue(headers)!);
            Console.Write(Probe(kernel, new TemplateFolders(r.GetValue(templates)!)).ToJson());
            return Ok;
        }));
        return command;
    }

    /// <summary>Probes a kernel; an optional API it lacks is one line saying what the module does without it.</summary>
    private static KernelProfile Probe(KernelHeaders kernel, TemplateFolders folders)
    {
        var probed = Timed($"{kernel.Release}: probed the kernel's APIs", () => KernelProber.Probe(kernel, folders.Probes));
        foreach (var note in probed.Notes)
        {
            Console.Error.WriteLine($"stargate-codegen: {note}");
        }

        return probed.Profile;
    }

    private static T Timed<T>(string what, Func<T> step)
    {
        var clock = Stopwatch.StartNew();
        var result = step();
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"stargate-codegen: {what} in {clock.Elapsed.TotalSeconds:0.0} s"));
        return result;
    }

    /// <summary>Runs a command body, turning every expected failure into diagnostics, one last line and exit code 1.</summary>
    private static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (CodegenException e)
        {
            if (!string.IsNullOrEmpty(e.Detail))
            {
                Console.Error.WriteLine(e.Detail.TrimEnd('\n'));
            }

            foreach (var diagnostic in e.Diagnostics)
            {
                Console.Error.WriteLine(diagnostic);
            }

            return Fail(e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail(e.Message);
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("STARGATE_DEBUG") is null)
        {
            Console.Error.WriteLine($"stargate-codegen: internal error: {e.GetType().Name}: {e.Message} (set STARGATE_DEBUG=1 for the stack trace)");
            return InternalError;
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"stargate-codegen: {message}");
        return Failed;
    }
}

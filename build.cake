// Stargate's build. Run it through ./build.sh, which installs what the machine lacks first:
//   ./build.sh --target=Build | Build-Guest-Modules | Test | Generate-Interop | Demo | Bench [--quick] | Bench-Zone-Copy | Bench-Host-Mount | Clean
//   ./build.sh --target=Test --configuration=Debug
// Tasks do one thing each; targets only list dependencies. --exclusive runs a task without them.
// Test prints, as the very last line of its output, "N passed, N failed, N skipped": CI reads it.

using System.Xml.Linq;

var target = Argument("target", "Default");
var configuration = Argument("configuration", "Release");

var root = MakeAbsolute(Directory("."));
var solution = root.CombineWithFilePath("Stargate.slnx");
var artifacts = root.Combine("artifacts");
var testResults = artifacts.Combine("test-results");

// Set by Test, printed after everything else (see the end of this file).
string testSummary = null;

// Every project in the tree, never anything under build outputs (the predicate prunes folders).
var notSearched = new HashSet<string> { "bin", "obj", "artifacts", ".git", "node_modules" };
FilePathCollection ProjectsMatching(string pattern) =>
    GetFiles(root.FullPath + "/" + pattern, new GlobberSettings
    {
        Predicate = entry => !root.GetRelativePath(entry.Path).Segments.Any(notSearched.Contains),
    });

// Test projects are discovered, not listed: new ones (integration-tests/...) join by existing.
// A helper library under integration-tests/ (no test SDK) is not a test project.
bool IsTestProject(FilePath project)
{
    var text = System.IO.File.ReadAllText(project.FullPath);
    return text.Contains("Microsoft.NET.Test.Sdk") || text.Contains("<IsTestProject>true</IsTestProject>");
}

List<FilePath> TestProjects() =>
    ProjectsMatching("**/*.Tests.csproj")
        .Concat(ProjectsMatching("integration-tests/**/*.csproj").Where(IsTestProject))
        .GroupBy(p => p.FullPath)
        .Select(g => g.First())
        .OrderBy(p => p.FullPath, StringComparer.Ordinal)
        .ToList();

// Projects on disk that Stargate.slnx does not list: built on their own so --no-build tests work.
List<FilePath> ProjectsMissingFromSolution()
{
    var listed = XDocument.Load(solution.FullPath)
        .Descendants("Project")
        .Select(p => root.CombineWithFilePath((string)p.Attribute("Path")).FullPath)
        .ToHashSet(StringComparer.Ordinal);
    return ProjectsMatching("**/*.csproj").Where(p => !listed.Contains(p.FullPath)).ToList();
}

Task("Clean")
    .Description("Deletes artifacts/ and every project's bin/ and obj/.")
    .Does(() =>
{
    var dirs = new List<DirectoryPath> { artifacts };
    foreach (var project in ProjectsMatching("**/*.csproj"))
    {
        dirs.Add(project.GetDirectory().Combine("bin"));
        dirs.Add(project.GetDirectory().Combine("obj"));
    }
    foreach (var dir in dirs.Where(DirectoryExists))
    {
        Information("Deleting {0}", root.GetRelativePath(dir));
        DeleteDirectory(dir, new DeleteDirectorySettings { Recursive = true, Force = true });
    }
});

Task("Install-Packages")
    .Description("Installs the Debian packages build.sh lists, when started without build.sh (dotnet cake).")
    .WithCriteria(() => Environment.GetEnvironmentVariable("STARGATE_PACKAGES_CHECKED") != "1")
    .Does(() =>
{
    RunBash(root.CombineWithFilePath("build.sh"), "--install-only");
});

Task("Restore")
    .Description("Restores NuGet packages for the solution.")
    .IsDependentOn("Install-Packages")
    .Does(() =>
{
    DotNetRestore(solution.FullPath);
});

Task("Build")
    .Description("Builds the solution (warnings are errors, see Directory.Build.props).")
    .IsDependentOn("Restore")
    .Does(() =>
{
    DotNetBuild(solution.FullPath, new DotNetBuildSettings
    {
        Configuration = configuration,
        NoRestore = true,
    });

    foreach (var project in ProjectsMissingFromSolution())
    {
        var relative = root.GetRelativePath(project);
        Warning("{0} is not in Stargate.slnx; building it on its own. Add it: dotnet sln Stargate.slnx add {0}", relative);
        DotNetBuild(project.FullPath, new DotNetBuildSettings { Configuration = configuration });
    }
});

Task("Generate-Interop")
    .Description("Regenerates interop/Stargate.Interop/Abi/StargateZone.g.cs from interop/include/stargate_zone.h.")
    .Does(() =>
{
    DotNetRun(
        root.CombineWithFilePath("interop/Stargate.Interop.Generator/Stargate.Interop.Generator.csproj").FullPath,
        new ProcessArgumentBuilder()
            .Append("interop/include/stargate_zone.h")
            .Append("interop/Stargate.Interop/Abi/StargateZone.g.cs"),
        new DotNetRunSettings { Configuration = configuration, WorkingDirectory = root });
});

// The guest kernel matrix, codegen/kernels.tsv (its header comment says what the columns are):
// one row per kernel, its release a regex. A row's kernel is the newest installed release
// (headers under /usr/src) that the regex matches whole, ordered as sort -V orders.
record GuestKernel(string Id, string ReleasePattern, string[] Packages);

List<GuestKernel> GuestKernels() =>
    System.IO.File.ReadAllLines(root.CombineWithFilePath("codegen/kernels.tsv").FullPath)
        .Where(line => line.Trim().Length > 0 && !line.TrimStart().StartsWith("#"))
        .Select(line => line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries))
        .Select(f => new GuestKernel(f[0], f[3], f[5].Split(',')))
        .ToList();

// Compares kernel releases as sort -V does: runs of digits as numbers, anything else as text.
int CompareVersions(string x, string y)
{
    var a = System.Text.RegularExpressions.Regex.Matches(x, @"\d+|\D+");
    var b = System.Text.RegularExpressions.Regex.Matches(y, @"\d+|\D+");
    for (int i = 0; i < Math.Min(a.Count, b.Count); i++)
    {
        int order = char.IsDigit(a[i].Value[0]) && char.IsDigit(b[i].Value[0])
            ? decimal.Parse(a[i].Value).CompareTo(decimal.Parse(b[i].Value))
            : string.CompareOrdinal(a[i].Value, b[i].Value);
        if (order != 0)
            return order;
    }
    return a.Count.CompareTo(b.Count);
}

string NewestInstalledRelease(GuestKernel kernel)
{
    var pattern = new System.Text.RegularExpressions.Regex("^(?:" + kernel.ReleasePattern + ")$");
    var releases = System.IO.Directory.Exists("/usr/src")
        ? System.IO.Directory.GetDirectories("/usr/src", "linux-headers-*")
            .Select(dir => System.IO.Path.GetFileName(dir).Substring("linux-headers-".Length))
            .Where(release => pattern.IsMatch(release))
            .ToList()
        : new List<string>();
    releases.Sort(CompareVersions);
    return releases.LastOrDefault();
}

Task("Build-Guest-Modules")
    .Description("Builds stargatefs.ko for every kernel of codegen/kernels.tsv into artifacts/modules/RELEASE (stargate-codegen build).")
    .IsDependentOn("Build")
    .Does(() =>
{
    var codegen = root.CombineWithFilePath($"codegen/Stargate.Codegen/bin/{configuration}/net10.0/stargate-codegen.dll");
    var kernels = GuestKernels().Select(kernel => (Kernel: kernel, Release: NewestInstalledRelease(kernel))).ToList();
    var missing = kernels.Where(k => k.Release is null).ToList();
    if (missing.Count > 0)
        throw new CakeException(string.Join("; ", missing.Select(k => $"no kernel of the matrix row {k.Kernel.Id} is installed (no /usr/src/linux-headers-RELEASE matching {k.Kernel.ReleasePattern})"))
            + $": install them with: apt-get install --no-install-recommends {string.Join(" ", missing.SelectMany(k => k.Kernel.Packages))}");

    foreach (var (kernel, release) in kernels)
    {
        var dir = "/usr/src/linux-headers-" + release;
        Information("Building the guest module for {0} ({1})", kernel.Id, release);
        var exitCode = StartProcess("dotnet", new ProcessSettings
        {
            Arguments = new ProcessArgumentBuilder()
                .AppendQuoted(codegen.FullPath)
                .Append("build")
                .Append("--headers").AppendQuoted(dir)
                .Append("--out").AppendQuoted(artifacts.Combine("modules").FullPath),
            WorkingDirectory = root,
        });
        if (exitCode != 0)
            throw new CakeException($"stargate-codegen build --headers {dir} failed with exit code {exitCode} (its diagnostics are above).");
    }
});

Task("Test")
    .Description("Runs every test project, reads the .trx files and prints the summary.")
    .IsDependentOn("Build")
    .IsDependentOn("Build-Guest-Modules")
    .Does(() =>
{
    var projects = TestProjects();
    if (projects.Count == 0)
        throw new CakeException("No test projects found (**/*.Tests.csproj, integration-tests/**/*.csproj).");

    // Old results must not stand in for a run that produced none.
    if (DirectoryExists(testResults))
        DeleteDirectory(testResults, new DeleteDirectorySettings { Recursive = true, Force = true });
    EnsureDirectoryExists(testResults);

    var exitCodes = new Dictionary<string, int>();
    foreach (var project in projects)
    {
        var name = project.GetFilenameWithoutExtension().FullPath;
        Information("Testing {0}", root.GetRelativePath(project));
        var settings = new DotNetTestSettings
        {
            Configuration = configuration,
            NoBuild = true,
            NoRestore = true,
            ResultsDirectory = testResults,
            Loggers = new[] { $"trx;LogFileName={name}.trx" },
        };
        // Keep going through failures: every project runs, the verdict comes from the .trx files.
        settings.HandleExitCode = code => { exitCodes[name] = code; return true; };
        exitCodes[name] = 0;
        DotNetTest(project.FullPath, settings);
    }

    XNamespace ns = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";
    int passed = 0, failed = 0, skipped = 0;
    var problems = new List<string>();
    var lines = new List<string>();
    foreach (var project in projects)
    {
        var name = project.GetFilenameWithoutExtension().FullPath;
        var exitCode = exitCodes[name];
        var trx = testResults.CombineWithFilePath(name + ".trx");
        if (!FileExists(trx))
        {
            // Counted as a failure so that the summary line alone never looks green.
            failed += 1;
            lines.Add($"  {name}: no results, counted as 1 failed (dotnet test exited {exitCode}: the test host crashed or never started)");
            problems.Add($"{name} produced no {root.GetRelativePath(trx)}");
            continue;
        }

        var run = XDocument.Load(trx.FullPath).Root;
        var summary = run.Element(ns + "ResultSummary");
        var counters = summary?.Element(ns + "Counters");
        int Count(string attribute) => (int?)counters?.Attribute(attribute) ?? 0;
        var p = Count("passed");
        // error/timeout/aborted are failures too, just reported differently by the adapter.
        var f = Count("failed") + Count("error") + Count("timeout") + Count("aborted");
        // xunit's skipped tests ([Fact(Skip=...)], SkippableFact) are results with outcome
        // NotExecuted; VSTest leaves the notExecuted counter at 0 for them, so count the results.
        var notExecuted = run.Element(ns + "Results")?.Elements(ns + "UnitTestResult")
            .Count(r => (string)r.Attribute("outcome") == "NotExecuted") ?? 0;
        var s = Math.Max(Count("notExecuted"), notExecuted);
        var outcome = (string)summary?.Attribute("outcome") ?? "no outcome";

        if (f == 0 && exitCode != 0)
        {
            // An aborted run (test host crash, stack overflow, FailFast) exits non-zero with
            // no failed test; its reason is the first line of the run's messages.
            f = 1;
            var reason = summary?.Descendants(ns + "Text")
                .Select(t => t.Value.Trim().Split('\n')[0].Trim())
                .FirstOrDefault(t => t.Length > 0) ?? $"dotnet test exited {exitCode}";
            if (reason.Length > 200)
                reason = reason.Substring(0, 200) + "...";
            lines.Add($"  {name}: {p} passed, run aborted (counted as 1 failed), {s} skipped: {reason}");
            problems.Add($"{name}: the test run was aborted ({reason})");
        }
        else
        {
            lines.Add($"  {name}: {p} passed, {f} failed, {s} skipped ({outcome})");
            if (p + f + s == 0)
                Warning("{0} has no tests.", name);
            if (f > 0)
                problems.Add($"{name}: {f} failed");
        }
        passed += p; failed += f; skipped += s;
    }

    Information("");
    Information("Test results in {0}:", root.GetRelativePath(testResults));
    foreach (var line in lines)
        Information("{0}", line);

    if (passed + failed == 0)
        problems.Add("no test ran (every test was skipped, or none was found)");

    testSummary = $"{passed} passed, {failed} failed, {skipped} skipped";
    if (problems.Count > 0)
        throw new CakeException("Tests failed: " + string.Join("; ", problems));
});

Task("Demo")
    .Description("Runs demo/run.sh against the built tree.")
    .IsDependentOn("Build")
    .IsDependentOn("Build-Guest-Modules")
    .Does(() =>
{
    var script = root.CombineWithFilePath("demo/run.sh");
    if (!FileExists(script))
        throw new CakeException("demo/run.sh does not exist yet: there is no demo to run.");
    RunBash(script);
});

Task("Bench")
    .Description("Runs the benchmark harness (bench/Stargate.Bench) over every file system into bench/results; --quick: a few minutes; --bench-args=\"...\": more of its options.")
    .IsDependentOn("Build")
    .IsDependentOn("Build-Guest-Modules")
    .Does(() =>
{
    var bench = root.CombineWithFilePath($"bench/Stargate.Bench/bin/{configuration}/net10.0/stargate-bench.dll");
    var arguments = new ProcessArgumentBuilder().AppendQuoted(bench.FullPath);
    if (HasArgument("quick"))
        arguments.Append("--quick");
    foreach (var word in Argument("bench-args", "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
        arguments.AppendQuoted(word);
    var exitCode = StartProcess("dotnet", new ProcessSettings { Arguments = arguments, WorkingDirectory = root });
    if (exitCode != 0)
        throw new CakeException($"stargate-bench exited with {exitCode}: see its output above and bench/results.");
});

Task("Bench-Host-Mount")
    .Description("Runs bench/host-mount.sh (host only: a zone mounted with `stargate mount` against the host's tmpfs).")
    .Does(() =>
{
    RunBash(root.CombineWithFilePath("bench/host-mount.sh"));
});

Task("Bench-Zone-Copy")
    .Description("Runs bench/zone-copy.sh (host only: stargate put/get against cp in /dev/shm).")
    .Does(() =>
{
    RunBash(root.CombineWithFilePath("bench/zone-copy.sh"));
});

void RunBash(FilePath script, string argument = null)
{
    var arguments = new ProcessArgumentBuilder().AppendQuoted(script.FullPath);
    if (argument != null)
        arguments.Append(argument);
    var exitCode = StartProcess("bash", new ProcessSettings
    {
        Arguments = arguments,
        WorkingDirectory = root,
    });
    if (exitCode != 0)
        throw new CakeException($"{root.GetRelativePath(script)} failed with exit code {exitCode}.");
}

// Targets: dependencies only.
Task("Default").IsDependentOn("Test");

try
{
    RunTarget(target);
}
catch (Exception e) when (testSummary is not null)
{
    // Cake would print its own error after everything else; the summary must stay the last line.
    Error("Error: {0}", e.Message);
    Console.Error.Flush();
    Console.WriteLine(testSummary);
    Console.Out.Flush();
    Environment.Exit(1);
}
if (testSummary is not null)
    Console.WriteLine(testSummary);

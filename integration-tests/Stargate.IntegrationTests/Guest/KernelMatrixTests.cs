namespace Stargate.IntegrationTests.Guest;

/// <summary>
/// The kernel matrix as the guests read it (codegen/kernels.tsv through KernelMatrix): its rows,
/// which release each row picks from those installed, and the errors a malformed file gives.
/// No QEMU is needed.
/// </summary>
public sealed class KernelMatrixTests
{
    [Fact]
    public void TheMatrixFile_HasEveryDebian12Kernel_GenericFullAndTheOtherFlavorsCore()
    {
        var kernels = KernelMatrix.Kernels;

        Assert.Equal(["6.1", "6.1-cloud", "6.1-rt", "6.12", "6.12-cloud", "6.12-rt"], kernels.Select(k => k.Id));
        Assert.All(kernels, k => Assert.Equal(k.Flavor == "generic" ? KernelSuite.Full : KernelSuite.Core, k.Suite));
        Assert.All(kernels, k => Assert.NotEmpty(k.Packages));
        Assert.True(KernelMatrix.Get("6.12").Matches("6.12.118+deb12-amd64"));
        Assert.True(KernelMatrix.Get("6.1-rt").Matches("6.1.0-57-rt-amd64"));
        Assert.Equal("6.12-cloud", KernelMatrix.Of("6.12.118+deb12-cloud-amd64")?.Id);
        Assert.Null(KernelMatrix.Of("6.1.0-57-common"));
    }

    [Fact]
    public void Release_MatchesOnlyItsOwnRow_WholeReleaseNotAPrefix()
    {
        var generic61 = KernelMatrix.Get("6.1");

        Assert.True(generic61.Matches("6.1.0-57-amd64"));
        Assert.False(generic61.Matches("6.1.0-57-cloud-amd64"));
        Assert.False(generic61.Matches("6.1.0-57-rt-amd64"));
        Assert.False(generic61.Matches("6.12.118+deb12-amd64"));
        Assert.False(generic61.Matches("x6.1.0-57-amd64"));
        Assert.Single(KernelMatrix.Kernels, k => k.Matches("6.12.118+deb12-rt-amd64"));
    }

    [Fact]
    public void Newest_OrdersReleasesByVersion_NotAsText()
    {
        var kernel = KernelMatrix.Get("6.12");

        Assert.Equal("6.12.118+deb12-amd64", kernel.Newest(["6.12.118+deb12-amd64", "6.12.9+deb12-amd64", "6.12.118+deb12-cloud-amd64"]));
        Assert.Equal("6.1.0-100-amd64", KernelMatrix.Get("6.1").Newest(["6.1.0-57-amd64", "6.1.0-100-amd64", "6.1.0-9-amd64"]));
        Assert.Null(KernelMatrix.Get("6.12-rt").Newest(["6.12.118+deb12-amd64"]));
    }

    [Fact]
    public void InstalledReleases_AreFoundFromHeadersImagesAndModuleTrees_EachOnce()
    {
        string root = Directory.CreateTempSubdirectory("stargate-kernels-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "usr/src/linux-headers-6.1.0-58-amd64"));
            Directory.CreateDirectory(Path.Combine(root, "usr/src/linux-headers-6.1.0-58-common"));
            Directory.CreateDirectory(Path.Combine(root, "boot"));
            File.WriteAllText(Path.Combine(root, "boot/vmlinuz-6.1.0-58-amd64"), string.Empty);
            File.WriteAllText(Path.Combine(root, "boot/vmlinuz-6.12.118+deb12-rt-amd64"), string.Empty);
            File.WriteAllText(Path.Combine(root, "boot/config-6.12.200+deb12-amd64"), string.Empty);
            Directory.CreateDirectory(Path.Combine(root, "lib/modules/6.1.0-57-cloud-amd64"));

            var releases = KernelMatrix.FindInstalledReleases(root);

            Assert.Equal(["6.1.0-57-cloud-amd64", "6.1.0-58-amd64", "6.1.0-58-common", "6.12.118+deb12-rt-amd64"], releases.Order(StringComparer.Ordinal));
            Assert.Equal("6.1.0-58-amd64", KernelMatrix.Get("6.1").Newest(releases));
            Assert.Null(KernelMatrix.Get("6.12").Newest(releases));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData("6.1 6.1 generic 6\\.1\\..* full", "kernels.tsv(2): 5 columns, expected 6")]
    [InlineData("6.1 6.1 generic 6\\.1\\..* all p", "kernels.tsv(2): suite 'all', expected full or core")]
    [InlineData("6.1 6.1 generic 6.1( full p", "kernels.tsv(2): release '6.1(' is not a regex")]
    [InlineData("6.1 6.1 generic a full p\n6.1 6.1 rt b core q", "kernels.tsv(3): kernel '6.1' is defined twice")]
    [InlineData("   ", "kernels.tsv: no kernel is defined")]
    public void Parse_OfAMalformedFile_NamesTheFileAndLine(string rows, string error)
    {
        var e = Assert.Throws<FormatException>(() => KernelMatrix.Parse("# a comment\n" + rows + "\n", "kernels.tsv"));

        Assert.StartsWith(error, e.Message, StringComparison.Ordinal);
    }
}

using System.Reflection;

namespace Stargate.IntegrationTests.Guest;

/// <summary>
/// Runs a [SkippableTheory] once per kernel of the matrix (codegen/kernels.tsv, read by
/// <see cref="KernelMatrix"/>) that runs @suite: a <see cref="KernelSuite.Core"/> test on every
/// kernel, a <see cref="KernelSuite.Full"/> test on the kernels whose suite is full. Its
/// parameter is the kernel's id ("6.12-cloud"); the test calls ModuleKernel.RequireOrSkip(id),
/// which skips with the reason when that kernel or its module is not here.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class MatrixKernelsAttribute(KernelSuite suite) : Xunit.Sdk.DataAttribute
{
    public KernelSuite Suite { get; } = suite;

    public override IEnumerable<object[]> GetData(MethodInfo testMethod) =>
        KernelMatrix.Kernels.Where(k => k.Runs(Suite)).Select(k => new object[] { k.Id });
}

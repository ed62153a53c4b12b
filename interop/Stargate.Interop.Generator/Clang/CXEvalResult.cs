namespace Stargate.Interop.Generator.Clang;

/// <summary>The result of clang_Cursor_Evaluate; disposed with clang_EvalResult_dispose.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct CXEvalResult
{
    public readonly nint Handle;

    public bool IsNull => Handle == 0;
}

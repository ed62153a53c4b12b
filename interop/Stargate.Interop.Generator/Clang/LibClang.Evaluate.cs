namespace Stargate.Interop.Generator.Clang;

/// <summary>Constant evaluation of an expression or a variable's initializer.</summary>
internal static unsafe partial class LibClang
{
    /// <summary>Null when the cursor cannot be evaluated.</summary>
    [LibraryImport(Library)]
    public static partial CXEvalResult clang_Cursor_Evaluate(CXCursor cursor);

    [LibraryImport(Library)]
    public static partial CXEvalResultKind clang_EvalResult_getKind(CXEvalResult result);

    [LibraryImport(Library)]
    public static partial uint clang_EvalResult_isUnsignedInt(CXEvalResult result);

    [LibraryImport(Library)]
    public static partial ulong clang_EvalResult_getAsUnsigned(CXEvalResult result);

    [LibraryImport(Library)]
    public static partial long clang_EvalResult_getAsLongLong(CXEvalResult result);

    [LibraryImport(Library)]
    public static partial void clang_EvalResult_dispose(CXEvalResult result);
}

namespace Stargate.Interop.Generator.Clang;

/// <summary>CXString: libclang's owned strings.</summary>
internal static unsafe partial class LibClang
{
    [LibraryImport(Library)]
    public static partial byte* clang_getCString(CXString text);

    [LibraryImport(Library)]
    public static partial void clang_disposeString(CXString text);

    /// <summary>Copies <paramref name="text"/> into a managed string and disposes it.</summary>
    public static string Take(CXString text)
    {
        try
        {
            return Marshal.PtrToStringUTF8((nint)clang_getCString(text)) ?? string.Empty;
        }
        finally
        {
            clang_disposeString(text);
        }
    }
}

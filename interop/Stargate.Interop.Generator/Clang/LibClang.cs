using System.Reflection;

namespace Stargate.Interop.Generator.Clang;

/// <summary>
/// The parts of the libclang C API (clang-c/Index.h) the generator uses, bound with
/// source-generated P/Invoke. Split by aspect: LibClang.Index.cs, .Cursor.cs, .Type.cs, ...
/// </summary>
/// <remarks>
/// Every function here returns or takes libclang-owned handles; the wrappers in this folder
/// (<see cref="ClangUnit"/>, <see cref="CursorTree"/>) own their lifetimes.
/// </remarks>
internal static unsafe partial class LibClang
{
    private const string Library = "libclang";

    /// <summary>Set this to a libclang path to use it instead of the ones searched below.</summary>
    public const string PathVariable = "STARGATE_LIBCLANG";

    // Debian's libclang1-14 installs only versioned names (no unversioned libclang.so),
    // so the import name is resolved by hand, newest first.
    private static readonly string[] Candidates =
    [
        "libclang-14.so.1",
        "/usr/lib/llvm-14/lib/libclang.so.1",
        "libclang.so.1",
        "libclang.so",
    ];

    // The explicit static constructor runs before the first P/Invoke of this class, which is
    // the only class importing Library.
    static LibClang() => NativeLibrary.SetDllImportResolver(typeof(LibClang).Assembly, Resolve);

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Library)
        {
            return 0;
        }

        string? configured = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrEmpty(configured))
        {
            return NativeLibrary.Load(configured);
        }

        foreach (string candidate in Candidates)
        {
            if (NativeLibrary.TryLoad(candidate, out nint handle))
            {
                return handle;
            }
        }

        throw new DllNotFoundException(
            $"libclang was not found (tried {string.Join(", ", Candidates)}); install Debian's " +
            $"libclang1-14 or set {PathVariable} to the library's path.");
    }
}

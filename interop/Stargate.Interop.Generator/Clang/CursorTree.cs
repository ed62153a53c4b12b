namespace Stargate.Interop.Generator.Clang;

/// <summary>The direct children of a cursor, in source order, through clang_visitChildren.</summary>
internal static unsafe class CursorTree
{
    public static IReadOnlyList<CXCursor> Children(CXCursor parent)
    {
        var children = new List<CXCursor>();
        GCHandle handle = GCHandle.Alloc(children);
        try
        {
            // Non-zero only when a visitor breaks, which Collect never does.
            _ = LibClang.clang_visitChildren(parent, &Collect, GCHandle.ToIntPtr(handle));
        }
        finally
        {
            handle.Free();
        }

        return children;
    }

    // Called by libclang on its own stack: it must not throw, so it only appends.
    [UnmanagedCallersOnly]
    private static CXChildVisitResult Collect(CXCursor cursor, CXCursor parent, nint clientData)
    {
        ((List<CXCursor>)GCHandle.FromIntPtr(clientData).Target!).Add(cursor);
        return CXChildVisitResult.Continue;
    }
}

using System.Runtime.InteropServices.Marshalling;

namespace Stargate.Interop.Generator.Clang;

/// <summary>
/// One parsed translation unit and the index that owns it. Cursors and types taken from it
/// are valid until Dispose.
/// </summary>
internal sealed unsafe class ClangUnit : IDisposable
{
    private readonly CXIndex index;
    private readonly CXTranslationUnit unit;

    private ClangUnit(CXIndex index, CXTranslationUnit unit)
    {
        this.index = index;
        this.unit = unit;
    }

    public CXCursor Root => LibClang.clang_getTranslationUnitCursor(unit);

    /// <summary>
    /// Parses <paramref name="path"/> with <paramref name="arguments"/>, keeping macro
    /// definitions; when <paramref name="contents"/> is given, the file is that text and need
    /// not exist on disk.
    /// </summary>
    /// <exception cref="InvalidOperationException">libclang returned no translation unit.</exception>
    public static ClangUnit Parse(string path, IReadOnlyList<string> arguments, string? contents = null)
    {
        var allocations = new List<nint>();
        byte* Utf8(string text)
        {
            byte* native = Utf8StringMarshaller.ConvertToUnmanaged(text);
            allocations.Add((nint)native);
            return native;
        }

        CXIndex index = LibClang.clang_createIndex(excludeDeclarationsFromPch: 0, displayDiagnostics: 0);
        try
        {
            byte** args = stackalloc byte*[arguments.Count];
            for (int i = 0; i < arguments.Count; i++)
            {
                args[i] = Utf8(arguments[i]);
            }

            CXUnsavedFile unsaved = default;
            if (contents is not null)
            {
                unsaved.Filename = Utf8(path);
                unsaved.Contents = Utf8(contents);
                unsaved.Length = (nuint)System.Text.Encoding.UTF8.GetByteCount(contents);
            }

            CXTranslationUnit unit = LibClang.clang_parseTranslationUnit(
                index, Utf8(path), args, arguments.Count,
                contents is null ? null : &unsaved, contents is null ? 0u : 1u,
                CXTranslationUnitFlags.DetailedPreprocessingRecord);
            if (unit.IsNull)
            {
                throw new InvalidOperationException($"libclang could not parse {path}.");
            }

            return new ClangUnit(index, unit);
        }
        catch
        {
            LibClang.clang_disposeIndex(index);
            throw;
        }
        finally
        {
            foreach (nint allocation in allocations)
            {
                Utf8StringMarshaller.Free((byte*)allocation);
            }
        }
    }

    /// <summary>Every diagnostic clang reported while parsing, in its order.</summary>
    public IReadOnlyList<Diagnostic> Diagnostics()
    {
        uint count = LibClang.clang_getNumDiagnostics(unit);
        var diagnostics = new List<Diagnostic>((int)count);
        for (uint i = 0; i < count; i++)
        {
            CXDiagnostic diagnostic = LibClang.clang_getDiagnostic(unit, i);
            try
            {
                DiagnosticSeverity? severity = LibClang.clang_getDiagnosticSeverity(diagnostic) switch
                {
                    CXDiagnosticSeverity.Note => DiagnosticSeverity.Note,
                    CXDiagnosticSeverity.Warning => DiagnosticSeverity.Warning,
                    CXDiagnosticSeverity.Error or CXDiagnosticSeverity.Fatal => DiagnosticSeverity.Error,
                    _ => null,
                };
                if (severity is { } known)
                {
                    var at = SourcePosition.From(LibClang.clang_getDiagnosticLocation(diagnostic));
                    string message = LibClang.Take(LibClang.clang_getDiagnosticSpelling(diagnostic));
                    diagnostics.Add(new Diagnostic(at.File, at.Line, at.Column, known, message));
                }
            }
            finally
            {
                LibClang.clang_disposeDiagnostic(diagnostic);
            }
        }

        return diagnostics;
    }

    public void Dispose()
    {
        LibClang.clang_disposeTranslationUnit(unit);
        LibClang.clang_disposeIndex(index);
    }
}

namespace Stargate.Interop.Generator.Clang;

/// <summary>A node of the AST, passed by value (clang-c CXCursor: kind, xdata, data[3]).</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct CXCursor
{
    public readonly CXCursorKind Kind;
    public readonly int Xdata;
    public readonly nint Data0;
    public readonly nint Data1;
    public readonly nint Data2;

    public string Spelling => LibClang.Take(LibClang.clang_getCursorSpelling(this));

    public CXType Type => LibClang.clang_getCursorType(this);

    public SourcePosition Position => SourcePosition.From(LibClang.clang_getCursorLocation(this));

    /// <summary>Whether the cursor is spelled in the file that was parsed, not in an include.</summary>
    public bool IsFromMainFile => LibClang.clang_Location_isFromMainFile(LibClang.clang_getCursorLocation(this)) != 0;

    public bool IsDefinition => LibClang.clang_isCursorDefinition(this) != 0;

    public bool IsBitField => LibClang.clang_Cursor_isBitField(this) != 0;

    public bool IsMacroFunctionLike => LibClang.clang_Cursor_isMacroFunctionLike(this) != 0;

    /// <summary>The field's offset in bits; negative when libclang cannot compute it.</summary>
    public long FieldOffsetBits => LibClang.clang_Cursor_getOffsetOfField(this);

    /// <summary>The comment before a declaration, as written; empty when there is none.</summary>
    public string RawComment => LibClang.Take(LibClang.clang_Cursor_getRawCommentText(this));

    /// <summary>Where the cursor's source text starts and ends (end exclusive).</summary>
    public (SourcePosition Start, SourcePosition End) Extent
    {
        get
        {
            CXSourceRange range = LibClang.clang_getCursorExtent(this);
            return (SourcePosition.From(LibClang.clang_getRangeStart(range)),
                    SourcePosition.From(LibClang.clang_getRangeEnd(range)));
        }
    }

    public IReadOnlyList<CXCursor> Children() => CursorTree.Children(this);
}

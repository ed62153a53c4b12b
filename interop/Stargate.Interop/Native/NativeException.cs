namespace Stargate.Interop.Native;

/// <summary>A failed libc call: the operation, the path it was about (if any) and errno.</summary>
public sealed class NativeException : IOException
{
    public NativeException(string operation, string? path, int errno)
        : base(Describe(operation, path, errno))
    {
        Operation = operation;
        Path = path;
        Errno = errno;
        HResult = errno;
    }

    public string Operation { get; }

    public string? Path { get; }

    public int Errno { get; }

    private static string Describe(string operation, string? path, int errno)
    {
        string reason = Marshal.GetPInvokeErrorMessage(errno);
        return path is null ? $"{operation}: {reason}" : $"{operation} {path}: {reason}";
    }
}

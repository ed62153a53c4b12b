namespace Stargate.Bench;

/// <summary>Something the harness could not do (a server that did not start, a guest step that failed), said in one message.</summary>
public sealed class BenchException : Exception
{
    public BenchException(string message)
        : base(message)
    {
    }

    public BenchException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public BenchException()
    {
    }
}

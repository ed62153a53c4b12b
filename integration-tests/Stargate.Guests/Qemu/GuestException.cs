namespace Stargate.Guests.Qemu;

/// <summary>A guest did not do what a test waited for; the message carries the end of its console.</summary>
public sealed class GuestException : Exception
{
    public GuestException(string message)
        : base(message)
    {
    }

    public GuestException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public GuestException()
    {
    }
}

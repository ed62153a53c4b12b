namespace Stargate.IntegrationTests.Stargatefs;

/// <summary>File contents the tests put in zones: reproducible random bytes.</summary>
public static class HostData
{
    public static byte[] Random(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}

namespace Stargate.Host.Service;

/// <summary>A whole-file flock of a zone file by a host process, held as long as its control connection is open (`lock`).</summary>
public sealed record LockRequest(string Path, bool Shared, bool Wait, int Pid);

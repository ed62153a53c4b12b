namespace Stargate.Host.Service;

/// <summary>What a forwarded command line did: its exit code and output, as it would have printed them.</summary>
public sealed record RunReply(int ExitCode, string Stdout, string Stderr);

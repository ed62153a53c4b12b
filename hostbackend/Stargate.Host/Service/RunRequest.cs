namespace Stargate.Host.Service;

/// <summary>A changing CLI command line, forwarded by a client that found the zone held by this service (`run` on the control socket).</summary>
public sealed record RunRequest(string[] Argv, string Cwd);

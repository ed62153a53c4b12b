using System.Text.Json;
using Microsoft.Extensions.Logging;
using Stargate.Host.Ivshmem;
using Stargate.Host.Rpc;
using Stargate.Host.Zones;
using Stargate.Interop.Abi;

namespace Stargate.Host.Service;

/// <summary>
/// Whole-file flocks taken by host processes through the control socket (`stargate lock`):
/// records of the zone's lock table in the host's slot, one owner per connection, taken and
/// dropped through the request server, which wakes the guests waiting for the file. Owns the
/// owner numbers; the connection's state is its <see cref="ControlClient"/>.
/// Not thread-safe: the service's loop thread calls it.
/// </summary>
internal sealed class HostLocks(Zone zone, RequestServer requests, ILogger log)
{
    private ulong _lastOwner;

    /// <summary>
    /// A `lock` request: the zone file is looked up and the lock asked for at once. The reply
    /// line, or null while the client waits (<see cref="Retry"/> answers it later). Once the
    /// file is found the client has no deadline: a waiting or held lock keeps its connection.
    /// </summary>
    public string? Request(ControlClient client, string json)
    {
        LockRequest? request;
        try
        {
            request = JsonSerializer.Deserialize<LockRequest>(json, ControlServer.Json);
        }
        catch (JsonException e)
        {
            return $"error: not a lock request: {e.Message}";
        }

        if (request?.Path is not { Length: > 0 })
        {
            return "error: a lock request needs the path of a zone file";
        }

        NodeRef file;
        try
        {
            var info = zone.Names.Stat(request.Path);
            if (!info.IsRegularFile)
            {
                return $"error: {request.Path}: not a regular file (only files are locked)";
            }

            file = new NodeRef(info.Ino, info.Generation);
        }
        catch (ZoneException e)
        {
            return $"error: {e.Message}";
        }

        client.Deadline = DateTime.MaxValue;
        client.Waiting = (request, file, ++_lastOwner);
        return Retry(client);
    }

    /// <summary>
    /// Asks the lock table for a waiting client's lock: `ok` when granted (the client holds
    /// it from now on), the refusal when refused without wait, null while it waits.
    /// </summary>
    public string? Retry(ControlClient client)
    {
        var (request, file, owner) = client.Waiting!.Value;
        var range = new LockRange(SgzAbi.LockKindFlock, request.Shared ? SgzAbi.LockRead : SgzAbi.LockWrite, 0, SgzAbi.LockEof);
        LockConflict? conflict;
        try
        {
            conflict = requests.HostLock(file, range, owner, (uint)request.Pid);
        }
        catch (ZoneException e)
        {
            client.Waiting = null;
            return $"error: {request.Path}: {e.Message}";
        }

        if (conflict is null)
        {
            client.Waiting = null;
            client.HeldBy = owner;
            return "ok";
        }

        if (request.Wait)
        {
            return null;
        }

        client.Waiting = null;
        var c = conflict.Value;
        return $"error: {request.Path} is locked ({(c.Type == SgzAbi.LockRead ? "shared" : "exclusive")}) by pid {c.Pid}; use --wait to wait for it";
    }

    /// <summary>Drops a host connection's lock; the request server rings the guests that wait for it.</summary>
    public void Release(ulong owner)
    {
        try
        {
            requests.HostUnlockAll(owner);
        }
        catch (ZoneException e)
        {
            ServiceLog.HostUnlockFailed(log, ServerLimits.HostId, Environment.ProcessId, e.Message);
        }
    }
}

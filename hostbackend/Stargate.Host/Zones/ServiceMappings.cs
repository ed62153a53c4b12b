using System.Globalization;
using Microsoft.Win32.SafeHandles;
using Stargate.Host.Cli;
using Stargate.Interop.Native;

namespace Stargate.Host.Zones;

/// <summary>
/// A process's mapping session with the `stargate serve` that holds its zone: one control
/// connection carries every <see cref="ZoneFileMapping"/> the process makes of that zone
/// (Service/MappingSessions.cs has the lines). Requests take turns and wait for their answer;
/// one reader thread takes every line serve sends, in order, and maps each layout as it
/// comes (an answer's too), then acknowledges each grace epoch, so a layout is always mapped
/// before serve may hand out the pages an older one used. When the connection ends (serve
/// stopped or was killed) every mapping reads zeros from then on and requests fail.
/// </summary>
internal sealed class ServiceMappings : IDisposable
{
    private readonly Zone _zone;
    private readonly ServeLink _link;
    private readonly Thread _reader;
    private readonly ulong _dataFileSize;
    private readonly Lock _gate = new();
    private readonly Lock _sending = new();
    private readonly SemaphoreSlim _turn = new(1, 1);
    private readonly Dictionary<int, ZoneFileMapping> _byHandle = [];
    private SafeFileHandle? _readOnly;
    private SafeFileHandle? _readWrite;
    private Request? _pending;
    private string? _gone;

    private ServiceMappings(Zone zone, ServeLink link)
    {
        _zone = zone;
        _link = link;
        _dataFileSize = zone.Superblock.DataFileSize;
        _reader = new Thread(Read) { IsBackground = true, Name = "stargate mapping session" };
        _reader.Start();
    }

    /// <summary>Connects to the zone's serve and starts a session; ReadOnly (one line saying why) when there is no serve or it refuses.</summary>
    public static ServiceMappings Connect(Zone zone)
    {
        var link = ServeLink.TryConnect(zone.Path)
            ?? throw new ZoneException(ZoneError.ReadOnly,
                $"{zone.Path}: opened read-only and no stargate serve answers for it: only the zone's writer maps its files on its own (open the zone for writing, or start stargate serve)");
        string? refusal;
        try
        {
            refusal = link.StartMapping();
        }
        catch (IOException e)
        {
            link.Dispose();
            throw new ZoneException(ZoneError.ReadOnly, $"{zone.Path}: stargate serve did not start a mapping session: {e.Message}");
        }

        if (refusal is not null)
        {
            link.Dispose();
            throw new ZoneException(ZoneError.ReadOnly, $"{zone.Path}: stargate serve refused to map files for this process: {refusal}");
        }

        return new ServiceMappings(zone, link);
    }

    /// <summary>The data file opened for mapping, read-write or read-only; UnauthorizedAccessException when this process may not.</summary>
    public SafeFileHandle DataFile(bool writable)
    {
        lock (_gate)
        {
            string path = ZoneFiles.DataPath(_zone.Path);
            return writable
                ? _readWrite ??= File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite)
                : _readOnly ??= File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
    }

    /// <summary>Asks serve to map <paramref name="mapping"/>'s file: once this returns its layout is mapped, and every later one will be.</summary>
    public void Open(ZoneFileMapping mapping) =>
        Ask(new Request(mapping, Opening: true), $"open {mapping.File.Ino} {mapping.File.Generation}");

    public void Allocate(ZoneFileMapping mapping, ulong offset, ulong length) =>
        Ask(new Request(mapping, Opening: false), $"allocate {mapping.Handle} {offset} {length}");

    public void Grow(ZoneFileMapping mapping, ulong size) =>
        Ask(new Request(mapping, Opening: false), $"grow {mapping.Handle} {size}");

    /// <summary>Serve forgets the mapping (nothing to do once serve is gone).</summary>
    public void Close(ZoneFileMapping mapping)
    {
        lock (_gate)
        {
            if (mapping.Handle == 0 || !_byHandle.Remove(mapping.Handle) || _gone is not null)
            {
                return;
            }
        }

        try
        {
            Ask(new Request(null, Opening: false), $"close {mapping.Handle}");
        }
        catch (IOException)
        {
            // serve stopped meanwhile: it forgot every mapping.
        }
    }

    public void Dispose()
    {
        _link.Shutdown();
        _reader.Join();
        _link.Dispose();
        _readOnly?.Dispose();
        _readWrite?.Dispose();
        _turn.Dispose();
    }

    private void Ask(Request request, string line)
    {
        _turn.Wait();
        try
        {
            lock (_gate)
            {
                if (_gone is not null)
                {
                    throw new IOException(_gone);
                }

                _pending = request;
            }

            Send(line);
            if (request.Done.Task.GetAwaiter().GetResult() is { } error)
            {
                string[] words = error.Split(' ', 2);
                throw words.Length == 2 && Enum.TryParse<ZoneError>(words[0], out var code)
                    ? new ZoneException(code, words[1])
                    : new IOException(error);
            }
        }
        finally
        {
            lock (_gate)
            {
                _pending = null;
            }

            _turn.Release();
        }
    }

    private void Send(string line)
    {
        lock (_sending)
        {
            _link.Send(line);
        }
    }

    /// <summary>The reader thread: every line serve sends, in order, until the connection ends.</summary>
    private void Read()
    {
        string why = "stargate serve closed the mapping session (it stopped)";
        try
        {
            while (_link.ReadLine() is { } line)
            {
                Take(line);
            }
        }
        catch (Exception e) when (e is IOException or FormatException or NativeException or ZoneException or KeyNotFoundException)
        {
            why = $"mapping session ended: {e.Message}";
            _link.Shutdown();
        }

        Ended(why);
    }

    private void Take(string line)
    {
        string[] words = line.Split(' ', 3);
        switch (words)
        {
            case ["epoch", var epoch]:
                // Every layout serve sent before this line is mapped: pages freed up to this epoch may go.
                Send($"ack {ulong.Parse(epoch, CultureInfo.InvariantCulture)}");
                break;
            case ["layout", var handle, var layout]:
                ZoneFileMapping? mapping;
                lock (_gate)
                {
                    mapping = _byHandle.GetValueOrDefault(int.Parse(handle, CultureInfo.InvariantCulture));
                }

                mapping?.Apply(Layout(mapping, layout));
                break;
            case ["=", var handle, ..]:
                Answered(int.Parse(handle, CultureInfo.InvariantCulture), words.Length == 3 ? words[2] : null);
                break;
            case ["!", ..]:
                Pending().Done.TrySetResult(line.Length > 2 ? line[2..] : "serve refused without a reason");
                break;
            default:
                throw new IOException($"serve sent a line this process does not know: '{(line.Length > 40 ? line[..40] : line)}'");
        }
    }

    /// <summary>`= H [LAYOUT]`: the answer to the request in flight; its layout is mapped before the asker goes on.</summary>
    private void Answered(int handle, string? layout)
    {
        var request = Pending();
        if (request.Mapping is { } mapping)
        {
            if (request.Opening)
            {
                mapping.Handle = handle;
                lock (_gate)
                {
                    _byHandle[handle] = mapping;
                }
            }

            if (layout is not null)
            {
                mapping.Apply(Layout(mapping, layout));
            }
        }

        request.Done.TrySetResult(null);
    }

    private FileLayout Layout(ZoneFileMapping mapping, string text)
    {
        var layout = FileLayout.Parse(text, _dataFileSize);
        return layout.File == mapping.File
            ? layout
            : throw new IOException($"serve sent the layout of inode {layout.File.Ino} for a mapping of inode {mapping.File.Ino}");
    }

    private Request Pending()
    {
        lock (_gate)
        {
            return _pending ?? throw new IOException("serve answered a request nobody made");
        }
    }

    /// <summary>The connection ended: nothing keeps the pages any more, so every mapping reads zeros, and what waits fails.</summary>
    private void Ended(string why)
    {
        List<ZoneFileMapping> mappings;
        Request? pending;
        lock (_gate)
        {
            _gone = why;
            mappings = [.. _byHandle.Values];
            pending = _pending;
        }

        foreach (var mapping in mappings)
        {
            mapping.RevokeAll();
        }

        pending?.Done.TrySetResult(why);
    }

    private sealed record Request(ZoneFileMapping? Mapping, bool Opening)
    {
        public TaskCompletionSource<string?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

using Microsoft.Win32.SafeHandles;
using Stargate.Host.Rpc;

namespace Stargate.Host.Ivshmem;

/// <summary>
/// The zone's peer slots, as the ivshmem server asks for them: the service that owns the
/// zone decides which id a new QEMU gets (connected and adopted guests share the slots),
/// makes its private area, and decides what a departure clears. Called on the service's loop thread only.
/// </summary>
internal interface IGuestSlots
{
    /// <summary>The lowest free slot, marked as taken before QEMU learns it; 0 when none is free.</summary>
    int Reserve();

    /// <summary>
    /// The private area of a reserved slot (its request ring and open table), made anew: the
    /// fd the QEMU gets as its shared memory (the caller sends and closes it). Its header
    /// carries <paramref name="policy"/>, the socket's export policy.
    /// </summary>
    SafeFileHandle CreateArea(int id, ExportPolicy policy);

    /// <summary>A reserved slot whose QEMU never joined (its set-up failed): free again, its area removed.</summary>
    void Unreserve(int id);

    /// <summary>A QEMU took its set-up: its slot goes live in the zone's peer table.</summary>
    void Joined(int id, int pid);

    /// <summary>A QEMU left or was dropped: the zone forgets it and the guests that remain are rung.</summary>
    void Left(int id);
}

namespace Stargate.Host.Ivshmem;

/// <summary>
/// The zone's peer slots, as the ivshmem server asks for them: the service that owns the
/// zone decides which id a new QEMU gets (doorbell, adopted and plain guests share the slots)
/// and what a departure clears. Called on the service's loop thread only.
/// </summary>
internal interface IGuestSlots
{
    /// <summary>The lowest free slot, marked as taken before QEMU learns it; 0 when none is free.</summary>
    int Reserve();

    /// <summary>A reserved slot whose QEMU never joined (its set-up failed): free again.</summary>
    void Unreserve(int id);

    /// <summary>A QEMU took its set-up: its slot goes live in the zone's peer table.</summary>
    void Joined(int id, int pid);

    /// <summary>A QEMU left or was dropped: the zone forgets it and the guests that remain are rung.</summary>
    void Left(int id);
}

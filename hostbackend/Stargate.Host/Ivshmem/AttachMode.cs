namespace Stargate.Host.Ivshmem;

/// <summary>How a guest attaches the zone.</summary>
public enum AttachMode
{
    /// <summary>ivshmem-plain over memory-backend-file,share=on: shared memory, no doorbells (polling).</summary>
    Plain,

    /// <summary>ivshmem-doorbell through `stargate serve`: shared memory and interrupts both ways.</summary>
    Doorbell,
}

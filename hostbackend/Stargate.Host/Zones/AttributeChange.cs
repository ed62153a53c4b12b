namespace Stargate.Host.Zones;

/// <summary>
/// A setattr: <see cref="Valid"/> holds SGZ_ATTR_* bits naming the fields that apply;
/// a time of SGZ_TIME_NOW means the host's clock.
/// </summary>
public readonly record struct AttributeChange(uint Valid, uint Mode, uint Uid, uint Gid, ulong Size, ulong AtimeNs, ulong MtimeNs);

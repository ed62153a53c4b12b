namespace Stargate.Host.Zones;

/// <summary>An inode as a guest knows it: the number and the generation it was made with (another generation is ESTALE).</summary>
public readonly record struct NodeRef(ulong Ino, uint Generation);

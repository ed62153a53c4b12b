using Stargate.Interop.Abi;

namespace Stargate.Host.Zones;

/// <summary>A directory slot in use: where it is and what it names.</summary>
internal readonly record struct DirectorySlot(ulong Index, ulong Offset, SgzDirent Entry);

namespace HttpSysLite.Transport.Service;

/// <summary>A frame's payload does not hold what its type says: the peer is broken, and the channel ends.</summary>
public sealed class WireFormatException(string message) : Exception(message);

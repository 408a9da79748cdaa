namespace HttpSysLite.Transport.Connections;

/// <summary>
/// The loop that serves a transport connection (the HTTP connection), as the transport sees it: the one
/// thing a transport asks of it is to run again after the connection was suspended idle
/// (<see cref="TransportConnection.TrySuspend"/>), when something arrived for it.
/// </summary>
internal interface IConnectionLoop
{
    /// <summary>The connection is suspended from now (its pipes gone, the loops returned), until <see cref="Resume"/>; called under the transport's receive side.</summary>
    void Suspended();

    /// <summary>Runs the loop again on the transport's new pipes; called under the transport's receive side.</summary>
    void Resume();
}

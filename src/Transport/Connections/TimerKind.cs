namespace HttpSysLite.Transport.Connections;

/// <summary>The HTTP.sys timers a connection can run, named as HTTP.sys's ConnTimedOut event names them.</summary>
public enum TimerKind
{
    /// <summary>No timer.</summary>
    None,
    /// <summary>Timer_IdleConnection: waiting for the next request.</summary>
    IdleConnection,
    /// <summary>Timer_HeaderWait: a request head started but not complete.</summary>
    HeaderWait,
    /// <summary>Timer_EntityBody: a body read waiting for bytes.</summary>
    EntityBody,
    /// <summary>Timer_DrainEntityBody: skipping a body the app did not read.</summary>
    DrainEntityBody,
    /// <summary>Timer_MinSendRate: a send the client does not take.</summary>
    MinSendRate,
    /// <summary>
    /// Not an HTTP.sys timer: the minimum request-body rate (Kestrel's MinRequestBodyDataRate), a body
    /// trickled slower than it while the app waits to read. HTTP.sys has only the EntityBody gap timer.
    /// </summary>
    MinRequestBodyRate,
}

namespace HttpSysLite.Transport.Routing;

/// <summary>How a server obtains its named request queue (HTTP.sys / HttpSysOptions.RequestQueueMode).</summary>
public enum RequestQueueMode
{
    /// <summary>Create the queue; fails if one with the name exists.</summary>
    Create,
    /// <summary>Attach to an existing queue; fails if none has the name. Prefixes are the creator's.</summary>
    Attach,
    /// <summary>Attach if the queue exists, otherwise create it.</summary>
    CreateOrAttach,
}

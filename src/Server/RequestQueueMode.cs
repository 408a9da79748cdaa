namespace HttpSysLite;

/// <summary>How the server obtains its request queue (the HttpSys enum of the same name).</summary>
public enum RequestQueueMode
{
    /// <summary>Create the queue (the default); fails at start if a queue with RequestQueueName exists.</summary>
    Create,
    /// <summary>Attach to the queue another server created; fails if none exists. UrlPrefixes are the creator's.</summary>
    Attach,
    /// <summary>Attach if the queue exists, otherwise create it.</summary>
    CreateOrAttach,
}

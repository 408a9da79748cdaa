namespace HttpSysLite.Features;

/// <summary>
/// Flushes the response cache, as <c>netsh http delete cache url=… recursive=yes</c> does for
/// HTTP.sys. Found on the server's features (<c>IServer.Features</c>).
/// </summary>
public interface IHttpSysLiteCacheFeature
{
    /// <summary>
    /// Removes the entry for <paramref name="url"/> (http://host:port/path[?query]), or, when
    /// <paramref name="recursive"/>, every entry whose URL starts with it. Returns how many went.
    /// </summary>
    int Flush(string url, bool recursive = false);
}

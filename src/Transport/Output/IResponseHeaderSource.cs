namespace HttpSysLite.Transport.Output;

/// <summary>
/// What the server hands the driver when a response starts: the app's headers, read-only from then on.
/// The driver asks for them only when it produces the head, and adds the framing headers itself
/// (Content-Length or Transfer-Encoding, Connection, Date, Server) unless the app set them.
/// </summary>
public interface IResponseHeaderSource
{
    /// <summary>The app's Content-Length, or null when it did not set one.</summary>
    long? ContentLength { get; }

    /// <summary>True when the app declared trailers, which forces chunked framing.</summary>
    bool HasTrailers { get; }

    /// <summary>Writes every app header through <paramref name="writer"/>, which checks each field (it may be asked twice: to check, then to write).</summary>
    void WriteHeaders(ResponseHeaderWriter writer);

    /// <summary>Writes the trailer fields after the last chunk (checked by <paramref name="writer"/> as headers are).</summary>
    void WriteTrailers(ResponseHeaderWriter writer);
}

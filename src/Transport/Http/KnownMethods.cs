using System.Text;

namespace HttpSysLite.Transport.Http;

/// <summary>Interned method strings, so the common methods cost no allocation per request.</summary>
public static class KnownMethods
{
    /// <summary>GET (RFC 9110 section 9.3.1).</summary>
    public const string Get = "GET";
    /// <summary>HEAD (RFC 9110 section 9.3.2).</summary>
    public const string Head = "HEAD";
    /// <summary>POST.</summary>
    public const string Post = "POST";
    /// <summary>PUT.</summary>
    public const string Put = "PUT";
    /// <summary>DELETE.</summary>
    public const string Delete = "DELETE";
    /// <summary>OPTIONS.</summary>
    public const string Options = "OPTIONS";
    /// <summary>PATCH (RFC 5789).</summary>
    public const string Patch = "PATCH";
    /// <summary>TRACE.</summary>
    public const string Trace = "TRACE";
    /// <summary>CONNECT.</summary>
    public const string Connect = "CONNECT";

    /// <summary>The interned string for a method token; an unknown method allocates (methods are case-sensitive, RFC 9110 section 9.1).</summary>
    public static string GetString(ReadOnlySpan<byte> method) => method.Length switch
    {
        3 when method.SequenceEqual("GET"u8) => Get,
        3 when method.SequenceEqual("PUT"u8) => Put,
        4 when method.SequenceEqual("POST"u8) => Post,
        4 when method.SequenceEqual("HEAD"u8) => Head,
        5 when method.SequenceEqual("PATCH"u8) => Patch,
        5 when method.SequenceEqual("TRACE"u8) => Trace,
        6 when method.SequenceEqual("DELETE"u8) => Delete,
        7 when method.SequenceEqual("OPTIONS"u8) => Options,
        7 when method.SequenceEqual("CONNECT"u8) => Connect,
        _ => Encoding.ASCII.GetString(method),
    };
}

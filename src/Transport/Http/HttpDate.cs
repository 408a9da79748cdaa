using System.Globalization;
using System.Text;

namespace HttpSysLite.Transport.Http;

/// <summary>
/// The IMF-fixdate for the Date header (RFC 9110 section 6.6.1), refreshed once a second by one timer
/// for the whole process, so no response formats a date.
/// </summary>
public static class HttpDate
{
    private static readonly Timer s_timer = new(static _ => Refresh(), null, 1000, 1000);
    private static volatile byte[] s_headerLine = Format(DateTimeOffset.UtcNow);

    /// <summary>"Date: ...\r\n" for now (to within a second).</summary>
    public static ReadOnlySpan<byte> HeaderLine
    {
        get
        {
            GC.KeepAlive(s_timer);
            return s_headerLine;
        }
    }

    /// <summary>The current value alone, as a string (for the server's headers and logs).</summary>
    public static string Value => Encoding.ASCII.GetString(s_headerLine, 6, s_headerLine.Length - 8);

    private static void Refresh() => s_headerLine = Format(DateTimeOffset.UtcNow);

    private static byte[] Format(DateTimeOffset now) =>
        Encoding.ASCII.GetBytes("Date: " + now.ToString("r", CultureInfo.InvariantCulture) + "\r\n");
}

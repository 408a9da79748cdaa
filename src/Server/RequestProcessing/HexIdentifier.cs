namespace HttpSysLite.RequestProcessing;

/// <summary>
/// Request and connection ids as the app sees them: 16 upper-case hex digits, as HttpSys formats its
/// ids. Written digit by digit: the general "X16" formatter took a visible share of a pipelined request.
/// </summary>
internal static class HexIdentifier
{
    public static string Format(ulong value) => string.Create(16, value, static (span, v) =>
    {
        for (int i = span.Length - 1; i >= 0; i--)
        {
            span[i] = "0123456789ABCDEF"[(int)(v & 0xF)];
            v >>= 4;
        }
    });
}

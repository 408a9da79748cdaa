namespace HttpSysLite.Transport.Http;

/// <summary>The three answers of every parser in the driver (STYLE.md rule 3).</summary>
public enum ParseResult
{
    /// <summary>The input is a valid prefix; nothing was consumed; read more.</summary>
    Incomplete,
    /// <summary>A whole element was parsed and consumed.</summary>
    Done,
    /// <summary>The input can never become valid; the reason says why and maps to a status.</summary>
    Invalid,
}

namespace HttpSysLite.Transport.Routing;

/// <summary>One prefix in the table and the URL group that owns it.</summary>
/// <param name="Prefix">The prefix, with its bound port.</param>
/// <param name="Group">The owner.</param>
public sealed record PrefixRegistration(UrlPrefix Prefix, UrlGroup Group);

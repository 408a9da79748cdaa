using System.Collections.ObjectModel;

namespace HttpSysLite;

/// <summary>
/// The URL prefixes a server registers, as HTTP.sys prefix strings (<c>http://+:5000/app/</c>).
/// Strings are checked when the server starts, so configuration binding can fill the collection.
/// </summary>
public sealed class UrlPrefixCollection : Collection<string>
{
}

using System.Collections.ObjectModel;

namespace HttpSysLite;

/// <summary>
/// The URL prefixes a server registers, as HTTP.sys prefix strings (<c>http://+:5000/app/</c>).
/// Before the server starts, strings are only collected (configuration binding fills the collection)
/// and checked at start. While it runs, adding or removing a prefix registers or releases it at once,
/// for new requests; an invalid prefix is refused with the reason and not added.
/// </summary>
public sealed class UrlPrefixCollection : Collection<string>
{
    private HttpSysLiteServer? _server;

    internal void Attach(HttpSysLiteServer? server) => _server = server;

    /// <inheritdoc />
    protected override void InsertItem(int index, string item)
    {
        ArgumentNullException.ThrowIfNull(item);
        _server?.AddPrefix(item);
        base.InsertItem(index, item);
    }

    /// <inheritdoc />
    protected override void SetItem(int index, string item)
    {
        ArgumentNullException.ThrowIfNull(item);
        _server?.AddPrefix(item);
        _server?.RemovePrefix(this[index]);
        base.SetItem(index, item);
    }

    /// <inheritdoc />
    protected override void RemoveItem(int index)
    {
        _server?.RemovePrefix(this[index]);
        base.RemoveItem(index);
    }

    /// <inheritdoc />
    protected override void ClearItems()
    {
        foreach (string item in this)
        {
            _server?.RemovePrefix(item);
        }
        base.ClearItems();
    }
}

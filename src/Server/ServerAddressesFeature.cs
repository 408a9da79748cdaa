using Microsoft.AspNetCore.Hosting.Server.Features;

namespace HttpSysLite;

/// <summary>The addresses the server listens on: filled from --urls before start, replaced by the real prefixes after.</summary>
internal sealed class ServerAddressesFeature : IServerAddressesFeature
{
    public ICollection<string> Addresses { get; } = new List<string>();

    public bool PreferHostingUrls { get; set; }
}

using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Server.HttpSys;

namespace HttpSysLite;

/// <summary>
/// Makes HttpSys's own <see cref="DelegationRule"/>, so an app written for HttpSys delegates with the
/// same types. Its constructor is internal and takes a Windows URL group, so the rule is made without
/// it and given only what crosses to our driver: the queue's name and the prefix (data, not a handle).
/// It holds nothing to release, so it is marked disposed: its Dispose then does nothing.
/// </summary>
internal static class DelegationRuleFactory
{
    private const BindingFlags Instance = BindingFlags.Instance | BindingFlags.NonPublic;

    private static readonly FieldInfo? s_queueName = typeof(DelegationRule).GetField("<QueueName>k__BackingField", Instance);
    private static readonly FieldInfo? s_urlPrefix = typeof(DelegationRule).GetField("<UrlPrefix>k__BackingField", Instance);
    private static readonly FieldInfo? s_disposed = typeof(DelegationRule).GetField("_disposed", Instance);

    public static DelegationRule Create(string queueName, string urlPrefix)
    {
        if (s_queueName is null || s_urlPrefix is null || s_disposed is null)
        {
            throw new PlatformNotSupportedException(
                "This version of Microsoft.AspNetCore.Server.HttpSys has a DelegationRule this server cannot fill in; HttpSysLite needs an update for it.");
        }
        var rule = (DelegationRule)RuntimeHelpers.GetUninitializedObject(typeof(DelegationRule));
        s_queueName.SetValue(rule, queueName);
        s_urlPrefix.SetValue(rule, urlPrefix);
        s_disposed.SetValue(rule, true);
        return rule;
    }
}

using System.Reflection;
using HttpSysLite.RequestProcessing;

namespace HttpSysLite.Tests.Unit.Server;

/// <summary>The typed slot lookup and the slot table must agree, or a feature would land in another's slot.</summary>
public class FeatureSlotTests
{
    [Fact]
    public void SlotOfGivesEachSlotTypeItsIndexAndOtherTypesNone()
    {
        var slotOf = typeof(HttpSysLiteContext).GetMethod("SlotOf", BindingFlags.Static | BindingFlags.NonPublic)!;
        var types = HttpSysLiteContext.SlotTypes;
        Assert.Equal(types.Length, types.Distinct().Count());
        for (int i = 0; i < types.Length; i++)
        {
            Assert.Equal(i, (int)slotOf.MakeGenericMethod(types[i]).Invoke(null, null)!);
        }
        Assert.Equal(-1, (int)slotOf.MakeGenericMethod(typeof(IDisposable)).Invoke(null, null)!);
    }
}

using HttpSysLite.Transport.Service;

namespace HttpSysLite.Tests.Unit.Service;

public sealed class QueueAccessListTests
{
    [Fact]
    public void UsersAndGroupsAreSambasSidsAndADenyWins()
    {
        var list = QueueAccessList.Parse("O:SYG:SYD:P(A;;GA;;;S-1-22-1-1001)(A;;GA;;;S-1-22-2-100)(D;;GA;;;S-1-22-1-1003)");
        Assert.True(list.Admits(1001, [1001]));
        Assert.True(list.Admits(1002, [1002, 100]));
        Assert.False(list.Admits(1003, [1003, 100])); // in the group, but denied by name
        Assert.False(list.Admits(1004, [1004]));
        Assert.True(list.Admits(0, [0])); // root, the administrator
    }

    [Fact]
    public void EveryoneAdmitsAllButTheDenied()
    {
        var list = QueueAccessList.Parse("D:(D;;GA;;;S-1-22-2-7)(A;;GA;;;WD)");
        Assert.True(list.Admits(5, [5]));
        Assert.False(list.Admits(5, [5, 7]));
    }

    [Theory]
    [InlineData("O:SY", "no DACL")]
    [InlineData("D:(A;;GA;;;S-1-5-21-1-2-3-1000)", "not a SID this driver maps")]
    [InlineData("D:(X;;GA;;;WD)", "allow (A) or deny (D)")]
    [InlineData("D:(A;;GA;;;WD", "not closed")]
    public void ADescriptorItCannotReadIsRefusedSayingWhy(string sddl, string expected)
    {
        var error = Assert.Throws<FormatException>(() => QueueAccessList.Parse(sddl));
        Assert.Contains(expected, error.Message);
    }
}

using HttpSysLite.Transport.Sockets;

namespace HttpSysLite.Tests.Unit.Server;

/// <summary>The default connection limit keeps a tenth of the open-file limit, and at least 256 descriptors, for the rest of the process.</summary>
public sealed class DescriptorLimitTests
{
    [Theory]
    [InlineData(512L, 256L)]
    [InlineData(1024L, 768L)]
    [InlineData(20000L, 18000L)]
    [InlineData(1048576L, 943719L)]
    [InlineData(300L, 44L)]
    [InlineData(100L, 1L)]
    public void TheDefaultKeepsAReserve(long limit, long expected) =>
        Assert.Equal(expected, DescriptorLimit.DefaultMaxConnections(limit));

    [Fact]
    public void NoLimitMeansNoDefault() => Assert.Null(DescriptorLimit.DefaultMaxConnections(null));

    [Fact]
    public void TheProcessLimitIsRead()
    {
        if (OperatingSystem.IsLinux())
        {
            Assert.True(DescriptorLimit.Current() is null or > 0);
        }
    }
}

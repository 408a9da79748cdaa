using System.Buffers;
using System.Text;
using HttpSysLite.Transport.Caching;

namespace HttpSysLite.Tests.Unit.Caching;

/// <summary>The Age line a cache hit carries (RFC 9111 section 4.2.3): the stored age plus the whole seconds since the store.</summary>
public class CacheEntryAgeTests
{
    private static CacheEntry Entry(TimeSpan? age) =>
        new("http://h:80/", 200, "HTTP/1.1 200 OK\r\n"u8.ToArray(), [], [], new CachePolicy(TimeSpan.FromMinutes(1), null, null, "public, max-age=60", null, age), owner: null);

    [Theory]
    [InlineData(0, 0, "Age: 0\r\n")]
    [InlineData(5, 0, "Age: 5\r\n")]
    [InlineData(5, 999, "Age: 5\r\n")]
    [InlineData(5, 1000, "Age: 6\r\n")]
    [InlineData(5, 7_500, "Age: 12\r\n")]
    [InlineData(2_147_483_648, 86_400_000, "Age: 2147570048\r\n")]
    public void TheAgeIsTheStoredAgePlusWholeSecondsStored(long storedAge, long millisecondsStored, string expected)
    {
        var entry = Entry(TimeSpan.FromSeconds(storedAge));
        entry.OnStored(now: 10_000, use: 1);
        var output = new ArrayBufferWriter<byte>();
        entry.WriteAge(output, now: 10_000 + millisecondsStored);
        Assert.True(entry.HasAge);
        Assert.Equal(expected, Encoding.ASCII.GetString(output.WrittenSpan));
    }

    [Fact]
    public void AnEntryWhoseResponseHadNoAgeHasNone() => Assert.False(Entry(age: null).HasAge);

    [Fact]
    public void WritingTheAgeAllocatesNothing()
    {
        var entry = Entry(TimeSpan.FromSeconds(3));
        entry.OnStored(now: 0, use: 1);
        var output = new ArrayBufferWriter<byte>(4096);
        entry.WriteAge(output, now: 1); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            entry.WriteAge(output, now: i * 1000);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}

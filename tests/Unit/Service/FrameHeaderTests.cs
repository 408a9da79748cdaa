using HttpSysLite.Transport.Http;
using HttpSysLite.Transport.Service;

namespace HttpSysLite.Tests.Unit.Service;

/// <summary>The 12 bytes before every frame on a driver channel: a tri-state read, as every parser in the driver.</summary>
public sealed class FrameHeaderTests
{
    [Fact]
    public void AHeaderReadsBackAndItsBytesAreTheDocumentedLayout()
    {
        var header = new FrameHeader(0x010203, FrameType.ResponseData, 0x5, 0xA0B0C0D0);
        var bytes = new byte[FrameHeader.Size];
        header.Write(bytes);
        Assert.Equal("0302010021050000D0C0B0A0", Convert.ToHexString(bytes));
        Assert.Equal(ParseResult.Done, FrameHeader.TryRead(bytes, out var read));
        Assert.Equal(header, read);
    }

    [Fact]
    public void FewerThanTwelveBytesAreIncomplete()
    {
        var bytes = new byte[FrameHeader.Size];
        new FrameHeader(4, FrameType.Request, 0, 1).Write(bytes);
        for (int length = 0; length < FrameHeader.Size; length++)
        {
            Assert.Equal(ParseResult.Incomplete, FrameHeader.TryRead(bytes.AsSpan(0, length), out _));
        }
    }

    [Theory]
    [InlineData(-1, 0)]
    [InlineData(FrameHeader.MaxPayload + 1, 0)]
    [InlineData(0, 1)]
    public void AnImpossibleLengthOrReservedBitsAreInvalid(int length, ushort reserved)
    {
        var bytes = new byte[FrameHeader.Size];
        new FrameHeader(0, FrameType.Request, 0, 1).Write(bytes);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes, length);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(6), reserved);
        Assert.Equal(ParseResult.Invalid, FrameHeader.TryRead(bytes, out _));
    }
}

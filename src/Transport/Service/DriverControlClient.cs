using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text.Json;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// The administration side of the driver's socket (`httpsyslite urlacl ...`, `httpsyslite show ...`):
/// one Control frame out, one ControlReply back, on a connection of its own. The driver knows who asks
/// from the kernel (SO_PEERCRED), so the client sends no identity.
/// </summary>
public static class DriverControlClient
{
    /// <summary>Runs <paramref name="request"/> on the driver at <paramref name="socketPath"/>.</summary>
    /// <exception cref="InvalidOperationException">No driver listens there, or it closed without answering.</exception>
    public static async Task<ControlReply> SendAsync(string socketPath, ControlRequest request, CancellationToken cancellationToken = default)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            throw new InvalidOperationException(
                $"No HttpSysLite driver is listening at {socketPath} ({ex.SocketErrorCode}). Start it with `httpsyslite serve --socket {socketPath}`, or give its socket with --socket.", ex);
        }
        var sender = new FrameSender(socket);
        await sender.SendAsync(FrameType.Control, 0, JsonSerializer.SerializeToUtf8Bytes(request), cancellationToken).ConfigureAwait(false);
        ControlReply? reply = null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            await FrameReader.RunAsync(PipeReader.Create(new NetworkStream(socket, ownsSocket: false)), (in FrameHeader header, ReadOnlySpan<byte> payload) =>
            {
                if (header.Type == FrameType.ControlReply)
                {
                    reply = JsonSerializer.Deserialize<ControlReply>(payload);
                    stop.Cancel(); // one answer per verb
                }
            }, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (reply is not null)
        {
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            throw new InvalidOperationException($"The driver at {socketPath} closed the connection before it answered.", ex);
        }
        return reply ?? throw new InvalidOperationException($"The driver at {socketPath} closed the connection before it answered.");
    }
}

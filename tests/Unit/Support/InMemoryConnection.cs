using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using HttpSysLite.Transport;
using HttpSysLite.Transport.Connections;
using HttpSysLite.Transport.Sockets;

namespace HttpSysLite.Tests.Unit.Support;

/// <summary>
/// The server end of an in-memory connection: bytes the client writes to <see cref="ToServer"/> are
/// received into the input pipe, and what the send loop sends lands in <see cref="ToClient"/>. A client
/// that stops reading fills <see cref="ToClient"/> (it pauses at 64 KiB), which holds a send up as a
/// full socket buffer does. An abort is seen by the client as a reset.
/// </summary>
internal sealed class InMemoryConnection : TransportConnection
{
    private const int ClientBufferBytes = 64 * 1024;

    private volatile bool _reset;

    public InMemoryConnection(IPEndPoint local, IPEndPoint remote, ConnectionSettings settings, MillisecondClock clock)
        : base(local, remote, settings, clock, PipeScheduler.ThreadPool, PipeScheduler.Inline, PipeScheduler.ThreadPool)
    {
    }

    /// <summary>Client to server; the client writes it.</summary>
    public Pipe ToServer { get; } = new(new PipeOptions(useSynchronizationContext: false));

    /// <summary>Server to client; the client reads it.</summary>
    public Pipe ToClient { get; } = new(new PipeOptions(pauseWriterThreshold: ClientBufferBytes, resumeWriterThreshold: ClientBufferBytes / 2, useSynchronizationContext: false));

    /// <summary>True once the server aborted the connection (what a client sees as a reset).</summary>
    public bool IsReset => _reset;

    protected override async Task StartReceiving()
    {
        await Task.Yield();
        var source = ToServer.Reader;
        var writer = InputWriter;
        bool discarding = false;
        try
        {
            while (true)
            {
                var result = await source.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled || _reset || ReceiveShutDown)
                {
                    break;
                }
                if (!discarding)
                {
                    foreach (var segment in result.Buffer)
                    {
                        writer.Write(segment.Span);
                    }
                }
                source.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break; // the client's FIN
                }
                if (!discarding)
                {
                    var flush = await writer.FlushAsync().ConfigureAwait(false);
                    // The HTTP connection stopped reading: discard until the client's FIN (a lingering close).
                    discarding = flush.IsCompleted || flush.IsCanceled;
                }
            }
        }
        finally
        {
            CompleteInput(null);
        }
    }

    protected override async ValueTask SendAsync(ReadOnlySequence<byte> buffer)
    {
        if (_reset)
        {
            throw new ConnectionResetException(new IOException("aborted"));
        }
        var writer = ToClient.Writer;
        foreach (var segment in buffer)
        {
            writer.Write(segment.Span);
        }
        var flush = writer.FlushAsync();
        if (!flush.IsCompleted)
        {
            // The client does not read: as a full socket buffer, this holds the send up.
            StartSendTimer(buffer.Length);
            await flush.ConfigureAwait(false);
            StopSendTimer();
        }
        if (_reset)
        {
            throw new ConnectionResetException(new IOException("aborted"));
        }
        OnSent(buffer.Length);
    }

    protected override void EndOutput(bool bothDirections)
    {
        ToClient.Writer.Complete();
        if (bothDirections)
        {
            ToServer.Reader.CancelPendingRead();
        }
    }

    protected override void EndReceiveSide() => ToServer.Reader.CancelPendingRead();

    protected override void AbortTransport(bool reset)
    {
        _reset = reset;
        ToServer.Reader.CancelPendingRead();
        ToClient.Writer.CancelPendingFlush();
        ToClient.Reader.CancelPendingRead();
    }

    protected override void ReleaseTransport()
    {
    }
}

using System.Buffers.Binary;
using System.Net.Sockets;

namespace HttpSysLite.Transport.Service;

/// <summary>
/// Who is at the other end of a Unix socket, as the kernel says (SO_PEERCRED, socket(7)): the process
/// id, user id and group id it had when it connected. The driver keeps them with each channel, for
/// tracing and for deciding what the process may register.
/// </summary>
public readonly record struct PeerCredentials(int ProcessId, uint UserId, uint GroupId)
{
    private const int SolSocket = 1;   // SOL_SOCKET on Linux
    private const int SoPeerCred = 17; // SO_PEERCRED on Linux

    /// <summary>The credentials of <paramref name="socket"/>'s peer; null where the platform has no SO_PEERCRED.</summary>
    public static PeerCredentials? Of(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        Span<byte> ucred = stackalloc byte[12]; // struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        int length = socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred);
        if (length < 12)
        {
            return null;
        }
        return new PeerCredentials(BinaryPrimitives.ReadInt32LittleEndian(ucred), BinaryPrimitives.ReadUInt32LittleEndian(ucred[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(ucred[8..]));
    }

    /// <inheritdoc />
    public override string ToString() => $"pid {ProcessId}, uid {UserId}, gid {GroupId}";
}

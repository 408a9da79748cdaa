using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.AspNetCore.Http.Features;

namespace HttpSysLite.RequestProcessing;

/// <summary>
/// The TLS features of a request that came over an https port, from what the driver's handshake
/// settled (TlsConnectionInfo): present only there, as on Kestrel.
/// </summary>
internal partial class HttpSysLiteContext : ITlsConnectionFeature, ITlsHandshakeFeature, ITlsApplicationProtocolFeature,
    Microsoft.AspNetCore.Server.HttpSys.IHttpSysRequestPropertyFeature
{
    /// <summary>
    /// HttpSys's contract: true and the bytes when they fit; false and the size needed when they do not;
    /// an exception when the server keeps no ClientHello.
    /// </summary>
    bool Microsoft.AspNetCore.Server.HttpSys.IHttpSysRequestPropertyFeature.TryGetTlsClientHello(Span<byte> tlsClientHelloBytesDestination, out int bytesReturned)
    {
        var hello = TlsInfo.ClientHello ?? throw new InvalidOperationException(
            "No TLS ClientHello was kept for this connection: set HttpSysLiteOptions.CacheTlsClientHello = true (HTTP.sys's ENABLE_CACHE_CLIENT_HELLO).");
        bytesReturned = hello.Length;
        if (tlsClientHelloBytesDestination.Length < hello.Length)
        {
            return false;
        }
        hello.CopyTo(tlsClientHelloBytesDestination);
        return true;
    }

    private X509Certificate2? _clientCertificateOverride;
    private bool _clientCertificateSet;
    private Task<X509Certificate2?>? _clientCertificateTask;

    private Transport.Tls.TlsConnectionInfo TlsInfo => Request.Tls!;

    X509Certificate2? ITlsConnectionFeature.ClientCertificate
    {
        get => _clientCertificateSet ? _clientCertificateOverride : TlsInfo.ClientCertificate;
        set
        {
            _clientCertificateOverride = value;
            _clientCertificateSet = true;
        }
    }

    Task<X509Certificate2?> ITlsConnectionFeature.GetClientCertificateAsync(CancellationToken cancellationToken)
    {
        // Once per request, as HttpSys does. With AllowRenegotation and no certificate yet the driver asks
        // the client now; otherwise what the connection has (or what the app set) is the answer.
        if (_clientCertificateTask is { } asked)
        {
            return asked;
        }
        if (_clientCertificateSet)
        {
            return _clientCertificateTask = Task.FromResult(_clientCertificateOverride);
        }
        var receiving = Request.ReceiveClientCertificateAsync(cancellationToken);
        return _clientCertificateTask = receiving.IsCompletedSuccessfully ? Task.FromResult(receiving.Result) : receiving.AsTask();
    }

    SslProtocols ITlsHandshakeFeature.Protocol => TlsInfo.Protocol;

    System.Net.Security.TlsCipherSuite? ITlsHandshakeFeature.NegotiatedCipherSuite => TlsInfo.CipherSuite;

    string ITlsHandshakeFeature.HostName => TlsInfo.HostName;

#pragma warning disable SYSLIB0058 // obsolete members ITlsHandshakeFeature still declares
    CipherAlgorithmType ITlsHandshakeFeature.CipherAlgorithm => (CipherAlgorithmType)TlsInfo.Algorithms.Cipher;

    int ITlsHandshakeFeature.CipherStrength => TlsInfo.Algorithms.CipherStrength;

    HashAlgorithmType ITlsHandshakeFeature.HashAlgorithm => (HashAlgorithmType)TlsInfo.Algorithms.Hash;

    int ITlsHandshakeFeature.HashStrength => TlsInfo.Algorithms.HashStrength;

    ExchangeAlgorithmType ITlsHandshakeFeature.KeyExchangeAlgorithm => (ExchangeAlgorithmType)TlsInfo.Algorithms.KeyExchange;

    int ITlsHandshakeFeature.KeyExchangeStrength => TlsInfo.Algorithms.KeyExchangeStrength;
#pragma warning restore SYSLIB0058

    ReadOnlyMemory<byte> ITlsApplicationProtocolFeature.ApplicationProtocol => TlsInfo.ApplicationProtocol.Protocol;
}

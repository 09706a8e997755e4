using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;

namespace Dtrain.Contracts.Network;

/// <summary>
/// TLS for dtrain's gRPC endpoints, in one place for every server and client: the certificate a server presents
/// (HTTPS instead of cleartext HTTP/2) and the CA its clients trust instead of the system's. A client follows the
/// address it is given: https:// connects with TLS, http:// without.
/// </summary>
public sealed class GrpcTls
{
    public static readonly GrpcTls None = new(null, null);

    private GrpcTls(X509Certificate2? certificate, X509Certificate2Collection? authority)
    {
        Certificate = certificate;
        Authority = authority;
    }

    /// <summary>What this process's gRPC endpoint presents; null: it serves cleartext HTTP/2.</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>The CA certificates this process's clients trust; null: the system's.</summary>
    public X509Certificate2Collection? Authority { get; }

    /// <summary>The scheme of this process's own gRPC address.</summary>
    public string Scheme => Certificate is null ? "http" : "https";

    /// <summary>Reads PEM files: a server certificate with its private key (both or neither) and a CA bundle; null ones are absent.</summary>
    public static GrpcTls Load(string? certificateFile, string? keyFile, string? authorityFile)
    {
        if (certificateFile is null != keyFile is null)
        {
            throw new DtrainException("a TLS certificate needs its private key and a key its certificate: give both or neither");
        }
        var certificate = certificateFile is null ? null : Read(certificateFile, () => X509Certificate2.CreateFromPemFile(certificateFile, keyFile));
        var authority = authorityFile is null ? null : Read(authorityFile, () =>
        {
            var bundle = new X509Certificate2Collection();
            bundle.ImportFromPemFile(authorityFile);
            return bundle.Count > 0 ? bundle : throw new CryptographicException("it holds no certificate");
        });
        return new GrpcTls(certificate, authority);
    }

    /// <summary>A channel to <paramref name="address"/> that trusts <see cref="Authority"/> when one is given.</summary>
    public GrpcChannel CreateChannel(string address, GrpcChannelOptions? options = null)
    {
        options ??= new GrpcChannelOptions();
        if (Authority is not null)
        {
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.AddRange(Authority);
            // As GrpcChannel's own handler: a second HTTP/2 connection once one has 100 streams.
            options.HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true, SslOptions = { CertificateChainPolicy = policy } };
            options.DisposeHttpClient = true;
        }
        return GrpcChannel.ForAddress(address, options);
    }

    /// <summary>
    /// A channel to this process's own endpoint at <paramref name="address"/>: it trusts exactly the certificate that
    /// endpoint presents (<see cref="Certificate"/>), which need not name the address (loopback) nor chain to <see cref="Authority"/>.
    /// </summary>
    public GrpcChannel CreateOwnChannel(string address)
    {
        if (Certificate is not { } own) return GrpcChannel.ForAddress(address);
        var handler = new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetRawCertData().AsSpan().SequenceEqual(own.RawData) },
        };
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
    }

    /// <summary>Why a call could not set up TLS (say, the server's certificate was not trusted); null if that was not why it failed.</summary>
    public static string? HandshakeFailure(RpcException e)
    {
        for (var inner = e.Status.DebugException; inner is not null; inner = inner.InnerException)
        {
            if (inner is AuthenticationException refused) return $"TLS handshake failed: {refused.Message}";
        }
        return null;
    }

    private static T Read<T>(string file, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new DtrainException($"cannot read the TLS file {file}: {e.Message}");
        }
    }
}

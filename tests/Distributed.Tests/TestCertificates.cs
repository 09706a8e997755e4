using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Dtrain.Tests;

/// <summary>
/// PEM files in a fresh directory: a test CA, a server certificate it signed for 127.0.0.1 and localhost with its
/// key, and the certificate of another CA that signed nothing here.
/// </summary>
internal sealed class TestCertificates : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("dtrain-tls-").FullName;

    public TestCertificates()
    {
        var now = DateTimeOffset.UtcNow;
        using var authorityKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var authority = NewAuthority("CN=dtrain test CA", authorityKey, now);
        using var strangerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var stranger = NewAuthority("CN=another CA", strangerKey, now);

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false)); // server authentication
        using var server = request.Create(authority, now.AddMinutes(-5), now.AddDays(1), [0x01, .. RandomNumberGenerator.GetBytes(8)]);

        File.WriteAllText(AuthorityFile, authority.ExportCertificatePem());
        File.WriteAllText(StrangerAuthorityFile, stranger.ExportCertificatePem());
        File.WriteAllText(CertificateFile, server.ExportCertificatePem());
        File.WriteAllText(KeyFile, serverKey.ExportPkcs8PrivateKeyPem());
    }

    public string AuthorityFile => Path.Combine(directory, "ca.pem");

    public string StrangerAuthorityFile => Path.Combine(directory, "other-ca.pem");

    public string CertificateFile => Path.Combine(directory, "server.pem");

    public string KeyFile => Path.Combine(directory, "server.key");

    /// <summary>The environment of a process that serves with the certificate and trusts <paramref name="authorityFile"/>.</summary>
    public Dictionary<string, string> Environment(string authorityFile) => new()
    {
        ["DTRAIN_TLS_CERT"] = CertificateFile, ["DTRAIN_TLS_KEY"] = KeyFile, ["DTRAIN_TLS_CA"] = authorityFile,
    };

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static X509Certificate2 NewAuthority(string name, ECDsa key, DateTimeOffset now)
    {
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
    }
}

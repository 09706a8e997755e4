using System.Security.Cryptography;
using System.Text;

namespace Dtrain.Contracts.Jobs;

/// <summary>The shared secret that admits a worker to a job and a peer to a worker.</summary>
public static class JobToken
{
    public static string Generate() => Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();

    /// <summary>Compares in constant time, so a caller cannot guess the token byte by byte.</summary>
    public static bool Matches(string expected, string? presented) =>
        presented is not null &&
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(presented));
}

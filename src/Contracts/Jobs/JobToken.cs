using System.Security.Cryptography;
using System.Text;

namespace Dtrain.Contracts.Jobs;

/// <summary>
/// The token that admits a worker to a job and a peer to a worker: HMAC-SHA256 of the job id under a secret only
/// the launcher (or the operator) holds, so a job's token admits nobody to another job.
/// </summary>
public static class JobToken
{
    /// <summary>A fresh random secret (or, where no job id is involved, a token), 256 bits in hex.</summary>
    public static string Generate() => Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();

    /// <summary>The job's token: HMAC-SHA256(secret, job id), lower-case hex.</summary>
    public static string Derive(string secret, string jobId) =>
        Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(jobId))).ToLowerInvariant();

    /// <summary>Compares in constant time, so a caller cannot guess the token byte by byte.</summary>
    public static bool Matches(string expected, string? presented) =>
        presented is not null &&
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(presented));
}

using Dtrain.Contracts.Jobs;

namespace Dtrain.Tests.Jobs;

public class JobTokenTests
{
    [Fact]
    public void Derive_is_hmac_sha256_as_rfc_4231_test_case_2_gives_it()
    {
        Assert.Equal("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", JobToken.Derive("Jefe", "what do ya want for nothing?"));
    }

    [Fact]
    public void A_token_matches_only_its_own_job_and_secret()
    {
        string secret = JobToken.Generate(), token = JobToken.Derive(secret, "job-a");

        Assert.True(JobToken.Matches(token, JobToken.Derive(secret, "job-a")));
        Assert.False(JobToken.Matches(token, JobToken.Derive(secret, "job-b")));
        Assert.False(JobToken.Matches(token, JobToken.Derive(JobToken.Generate(), "job-a")));
        Assert.False(JobToken.Matches(token, null));
    }
}

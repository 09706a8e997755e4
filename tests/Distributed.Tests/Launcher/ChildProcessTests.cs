using Dtrain.Launcher.Local;

namespace Dtrain.Tests.Launcher;

/// <summary>How the launcher tells why a worker failed: in the worker's own words, never a line of its stack trace.</summary>
public class ChildProcessTests
{
    private static async Task<string> FailureOfAsync(string stderr)
    {
        using var child = ChildProcess.Start(0, ["sh", "-c", $"printf '{stderr}' >&2; exit 1"], "token", _ => { });
        await child.WaitForExitAsync(CancellationToken.None);
        child.Stop(); // drains its output
        return child.DescribeFailure("worker");
    }

    [Fact]
    public async Task A_worker_internal_error_is_told_by_its_first_line_not_its_last_stack_frame()
    {
        string failure = await FailureOfAsync(
            "dtrain: internal error: System.OverflowException: TimeSpan overflowed because the duration is too long.\\n" +
            "   at System.TimeSpan.IntervalFromDoubleTicks(Double ticks)\\n" +
            " ---> System.Exception: inner\\n" +
            "   at Program.<Main>$(String[] args) in src/Launcher/Program.cs:line 32\\n");

        Assert.Equal("worker 0 failed (exit code 1): internal error: System.OverflowException: TimeSpan overflowed because the duration is too long.", failure);
    }

    [Theory]
    [InlineData("dtrain: error: cannot reach the coordinator\\n", "cannot reach the coordinator")]
    [InlineData("a warning\\ndtrain: error: the real reason\\nsome shutdown noise\\n", "the real reason")]
    [InlineData("Unhandled exception. System.Exception: boom\\n   at UserProgram.Main()\\n", "Unhandled exception. System.Exception: boom")]
    [InlineData("   at Somewhere()\\n", "no message")]
    public async Task The_failure_line_is_the_workers_own(string stderr, string expected)
    {
        Assert.Equal($"worker 0 failed (exit code 1): {expected}", await FailureOfAsync(stderr));
    }
}

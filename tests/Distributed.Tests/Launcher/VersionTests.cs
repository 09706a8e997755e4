using System.Reflection;
using Dtrain.Telemetry;

namespace Dtrain.Tests.Launcher;

public class VersionTests
{
    /// <summary>`dtrain --version` names the build the way every process's dtrain_build_info gauge does.</summary>
    [Fact]
    public async Task Version_prints_the_build_info_version_and_exits_0()
    {
        var (code, stdout, stderr) = await DtrainProcess.RunAsync(TimeSpan.FromMinutes(1), "--version");

        Assert.True(code == 0, stderr);
        string buildInfo = typeof(DtrainMetrics).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Equal(buildInfo, stdout.Trim());
        Assert.Matches(@"^\d+\.\d+\.\d+", buildInfo);
    }
}

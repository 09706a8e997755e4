using System.Diagnostics;

namespace Dtrain.Tests.Scripts;

/// <summary>
/// scripts/debian-mirror.sh, which scripts/setup.sh takes the trixie archive's host from: the machine's own bookworm
/// mirror, in either apt sources format, and no host name written into the scripts.
/// </summary>
public class DebianMirrorTests
{
    private static (int ExitCode, string Stdout, string Stderr) Run(string aptDirectory)
    {
        var start = new ProcessStartInfo("bash", [RepositoryFiles.PathOf("scripts/debian-mirror.sh"), aptDirectory]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        string stdout = process.StandardOutput.ReadToEnd(), stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Trim(), stderr.Trim());
    }

    [Fact]
    public void The_mirror_comes_from_the_machines_bookworm_source_in_either_format()
    {
        using var apt = new Graph.TempDirectory();
        Directory.CreateDirectory(apt.File("sources.list.d"));
        File.WriteAllText(apt.File("sources.list.d/debian.sources"),
            "Types: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\n\nTypes: deb\nSuites: bookworm bookworm-updates\nURIs: http://mirror-a.example/debian\nComponents: main\n");
        var deb822 = Run(apt.Path);
        Assert.Equal((0, "http://mirror-a.example/debian"), (deb822.ExitCode, deb822.Stdout));

        File.WriteAllText(apt.File("sources.list"), "deb http://security.example/debian-security bookworm-security main\ndeb [signed-by=/k.gpg] http://mirror-b.example/debian bookworm main\n");
        Assert.Equal("http://mirror-b.example/debian", Run(apt.Path).Stdout);

        var none = Run(apt.File("missing"));
        Assert.Equal(1, none.ExitCode);
        Assert.Equal($"debian-mirror: no Debian bookworm archive in {apt.File("missing")}/sources.list or {apt.File("missing")}/sources.list.d", none.Stderr);
    }

    [Fact]
    public void No_script_names_a_debian_host()
    {
        var scripts = Directory.GetFiles(RepositoryFiles.PathOf("scripts")).Concat(Directory.GetFiles(RepositoryFiles.PathOf("bench")));
        Assert.DoesNotContain(scripts, script => File.ReadAllText(script).Contains("debian.org", StringComparison.OrdinalIgnoreCase));
    }
}

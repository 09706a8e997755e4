using System.Diagnostics;
using System.Text;

namespace Dtrain.Tests.Library;

/// <summary>
/// The examples as a user builds them: the library packed into a local feed (scripts/pack.sh, under a version of
/// its own so that NuGet's cache of an earlier pack is never used), and each example copied outside the repository,
/// where none of its build settings apply, and built from the feed with one PackageReference.
/// </summary>
public sealed class PackedExamples : IAsyncLifetime
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(4);

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), $"dtrain-examples-{Guid.NewGuid():N}");

    /// <summary>The built program of an example, e.g. "Digits".</summary>
    public string Program(string example) => Path.Combine(Directory, example, "bin", "Release", "net10.0", $"{example}.dll");

    public async Task InitializeAsync()
    {
        string version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";
        string feed = Path.Combine(Directory, "feed");
        System.IO.Directory.CreateDirectory(feed);
        await RunAsync("bash", [RepositoryFiles.PathOf("scripts/pack.sh"), feed, version, "--no-build"], Directory);
        File.WriteAllText(Path.Combine(Directory, "nuget.config"),
            $"""<configuration><packageSources><add key="dtrain-local" value="{feed}" /></packageSources></configuration>""");
        foreach (string example in new[] { "Digits", "CharLm" })
        {
            string project = Path.Combine(Directory, example);
            System.IO.Directory.CreateDirectory(project);
            foreach (string file in new[] { $"{example}.csproj", "Program.cs" })
            {
                File.Copy(RepositoryFiles.PathOf($"examples/{example}/{file}"), Path.Combine(project, file));
            }
            await RunAsync("dotnet", ["build", "-c", "Release", "-nologo", "-v", "q", $"-p:DtrainVersion={version}"], project);
        }
    }

    private static async Task RunAsync(string file, IEnumerable<string> arguments, string directory)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        var reading = Task.WhenAll(process.StandardOutput.ReadToEndAsync().ContinueWith(t => output.Append(t.Result)),
            process.StandardError.ReadToEndAsync().ContinueWith(t => output.Append(t.Result)));
        using var limit = new CancellationTokenSource(Limit);
        await process.WaitForExitAsync(limit.Token);
        await reading;
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(" ", start.ArgumentList)} failed in {directory}: {output}");
    }

    public Task DisposeAsync()
    {
        System.IO.Directory.Delete(Directory, recursive: true);
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class PackedExamplesCollection : ICollectionFixture<PackedExamples>
{
    public const string Name = "packed examples";
}

namespace Dtrain.Tests;

/// <summary>Files of this repository (docs, deploy), found from the test assembly's folder upwards.</summary>
internal static class RepositoryFiles
{
    private static readonly Lazy<string> Root = new(() =>
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Distributed.sln"))) return directory.FullName;
        }
        throw new InvalidOperationException($"no Distributed.sln above {AppContext.BaseDirectory}");
    });

    /// <summary>The absolute path of <paramref name="relativePath"/>, e.g. "docs/metrics.md".</summary>
    public static string PathOf(string relativePath) => Path.Combine(Root.Value, relativePath);

    public static string Read(string relativePath) => File.ReadAllText(PathOf(relativePath));
}

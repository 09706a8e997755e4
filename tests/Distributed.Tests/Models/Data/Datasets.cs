namespace Dtrain.Tests.Models.Data;

/// <summary>
/// Where the real datasets are: $DTRAIN_DATA, else data/ at the repository root. scripts/test.sh sets the variable
/// and fetches them there (scripts/fetch-datasets.sh) before the tests run.
/// </summary>
internal static class Datasets
{
    public static string Directory =>
        Environment.GetEnvironmentVariable("DTRAIN_DATA") is { Length: > 0 } directory ? directory : RepositoryFiles.PathOf("data");

    /// <summary>The path of a dataset in the directory, e.g. "digits.csv.gz".</summary>
    public static string PathOf(string name) => Path.Combine(Directory, name);
}

/// <summary>A test on a fetched dataset: skipped, saying how to fetch it, where the dataset is absent.</summary>
public sealed class DatasetFactAttribute : FactAttribute
{
    public DatasetFactAttribute(string name)
    {
        string path = Datasets.PathOf(name);
        if (!File.Exists(path) && !System.IO.Directory.Exists(path))
        {
            Skip = $"needs {path}: run scripts/fetch-datasets.sh {Datasets.Directory} (scripts/test.sh does)";
        }
    }
}

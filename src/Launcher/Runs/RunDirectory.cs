using System.Text.Json;
using Dtrain.Launcher.Monitoring;
using Dtrain.Launcher.Options;

namespace Dtrain.Launcher.Runs;

/// <summary>
/// The directory a `dtrain run` keeps (`--run-dir`, default runs/JOB-ID): every line the launcher printed
/// (launcher.log: its own, the in-process coordinator's events, the workers' forwarded output, and the result or
/// error the run ended with), each worker
/// process's stdout and stderr (worker-N.log; under MPI, worker-0.log holds mpiexec's ranks), the progress the
/// launcher saw (progress.csv, one row per new step) and how the run ended (summary.json). Log lines start with
/// their UTC time. A run given the directory of an earlier one (a resumed job) appends to its logs and record.
/// </summary>
public sealed class RunDirectory : IDisposable
{
    public const string LauncherLog = "launcher.log", ProgressFile = "progress.csv", SummaryFile = "summary.json";

    private readonly Dictionary<string, StreamWriter> writers = [];

    private RunDirectory(string path) => Path = path;

    /// <summary>The directory's full path.</summary>
    public string Path { get; }

    public static string WorkerLog(int index) => $"worker-{index}.log";

    public static RunDirectory Create(string path)
    {
        OutputPaths.Refuse(OutputPaths.DirectoryProblem("--run-dir", path));
        return new RunDirectory(Directory.CreateDirectory(path).FullName);
    }

    /// <summary>Appends a timestamped line to one of the directory's logs; callable from any thread.</summary>
    public void Log(string file, string line) => Append(file, $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {line}");

    public void Record(ProgressRow row) => Append(ProgressFile, row.ToCsv(), ProgressRow.Header);

    public void WriteSummary(RunSummary summary) =>
        File.WriteAllText(System.IO.Path.Combine(Path, SummaryFile), JsonSerializer.Serialize(summary, RunJson.Options) + "\n");

    private void Append(string file, string line, string? header = null)
    {
        lock (writers)
        {
            if (!writers.TryGetValue(file, out var writer))
            {
                string path = System.IO.Path.Combine(Path, file);
                bool fresh = !File.Exists(path) || new FileInfo(path).Length == 0;
                writers[file] = writer = new StreamWriter(path, append: true) { AutoFlush = true };
                if (fresh && header is not null) writer.WriteLine(header);
            }
            writer.WriteLine(line);
        }
    }

    public void Dispose()
    {
        lock (writers)
        {
            foreach (var writer in writers.Values) writer.Dispose();
            writers.Clear();
        }
    }
}

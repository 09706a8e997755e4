namespace Dtrain.Launcher.Options;

/// <summary>
/// The one check of a path a command writes to (an --out file or directory, the checkpoint or run directory), made
/// before the work starts: a problem is a line naming the setting and the path, not an IOException afterwards.
/// </summary>
public static class OutputPaths
{
    /// <summary>What keeps <paramref name="path"/> from being written as a file, or null when nothing does.</summary>
    public static string? FileProblem(string name, string path)
    {
        if (path == "") return $"{name} must name a file";
        if (Directory.Exists(path)) return $"{name} {path} is a directory; give a file name";
        string parent = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(parent)) return $"{name} {path}: directory {parent} does not exist";
        return WritableProblem(name, path, parent);
    }

    /// <summary>
    /// What keeps <paramref name="path"/> from being a directory files are written to, or null when nothing does. A
    /// directory that is not there yet is not made (the command makes it once its inputs are read); the nearest one
    /// above it that is there must be writable.
    /// </summary>
    public static string? DirectoryProblem(string name, string path)
    {
        if (path == "") return $"{name} must name a directory";
        if (File.Exists(path)) return $"{name} {path} is a file, not a directory";
        string existing = Path.GetFullPath(path);
        while (!Directory.Exists(existing))
        {
            if (File.Exists(existing)) return $"{name} {path}: {existing} is a file, not a directory";
            existing = Path.GetDirectoryName(existing)!;
        }
        return WritableProblem(name, path, existing);
    }

    /// <summary>Throws a <see cref="UsageException"/> with <paramref name="problem"/>, if there is one.</summary>
    public static void Refuse(string? problem)
    {
        if (problem is not null) throw new UsageException(problem);
    }

    /// <summary>Whether a file can be created in <paramref name="directory"/>: the one sure test (permissions, read-only mounts, /proc).</summary>
    private static string? WritableProblem(string name, string path, string directory)
    {
        string probe = Path.Combine(directory, $".dtrain-write-test-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (File.Create(probe, 1, FileOptions.DeleteOnClose)) { }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{name} {path}: cannot write in {directory} ({(e is UnauthorizedAccessException ? "permission denied" : "not a writable directory")})";
        }
    }
}

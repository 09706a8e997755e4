namespace Dtrain.MpiHarness;

/// <summary>
/// Runs the checks of one rank and prints one line per check, prefixed with the rank, so the lines of all ranks
/// can be told apart in mpiexec's merged output: first the plan ("plan N checks"), then "ok" or "FAIL" per check,
/// then "done: P passed, F failed". A rank that dies early never prints the last line.
/// </summary>
internal sealed class Report(int rank, int size)
{
    private int passed, failed;

    public bool Succeeded => failed == 0;

    public async Task RunAsync(IReadOnlyList<(string Name, Func<Task> Body)> checks)
    {
        Print($"plan {checks.Count} checks");
        foreach (var (name, body) in checks)
        {
            try
            {
                await body();
                passed++;
                Print($"ok   {name}");
            }
            catch (Exception e)
            {
                failed++;
                Print($"FAIL {name}: {e.GetType().Name}: {e.Message}");
            }
        }
        Print($"done: {passed} passed, {failed} failed");
    }

    private void Print(string line) => Console.WriteLine($"rank {rank}/{size} {line}");
}

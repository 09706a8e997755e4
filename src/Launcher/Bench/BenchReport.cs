namespace Dtrain.Launcher.Bench;

/// <summary>Prints results as nccl-tests does: one line per size, times in microseconds, bandwidths in GB/s.</summary>
public static class BenchReport
{
    public static void Print(TextWriter output, string title, IEnumerable<BenchResult> results)
    {
        output.WriteLine($"# {title}");
        output.WriteLine($"# {"size",9} {"time(us)",12} {"algbw(GB/s)",12} {"busbw(GB/s)",12} {"memcpy(GB/s)",13}");
        foreach (var r in results)
        {
            output.WriteLine($"  {ByteSizes.Format(r.Bytes),9} {r.Seconds * 1e6,12:0.0} {r.AlgorithmGBps,12:G4} {r.BusGBps,12:G4} {r.MemcpyGBps,13:G4}");
        }
    }
}

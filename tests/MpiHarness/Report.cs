using System.Runtime.InteropServices;

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

/// <summary>A check's expectation that did not hold.</summary>
internal sealed class CheckFailedException(string message) : Exception(message);

internal static class Require
{
    public static void That(bool condition, string message)
    {
        if (!condition) throw new CheckFailedException(message);
    }

    /// <summary>Bit for bit, so -0 differs from +0 and a different rounding is caught.</summary>
    public static void Bitwise<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, string what) where T : unmanaged
    {
        That(expected.Length == actual.Length, $"{what}: {actual.Length} elements, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            if (!MemoryMarshal.AsBytes(expected.Slice(i, 1)).SequenceEqual(MemoryMarshal.AsBytes(actual.Slice(i, 1))))
            {
                throw new CheckFailedException($"{what}: element {i} is {actual[i]}, expected {expected[i]}");
            }
        }
    }

    /// <summary>The expected exception type, with a message matching <paramref name="pattern"/>.</summary>
    public static async Task ThrowsAsync<TException>(Func<Task> body, string pattern) where TException : Exception
    {
        try
        {
            await body();
        }
        catch (TException e)
        {
            That(System.Text.RegularExpressions.Regex.IsMatch(e.Message, pattern), $"{typeof(TException).Name} said '{e.Message}', expected /{pattern}/");
            return;
        }
        throw new CheckFailedException($"expected a {typeof(TException).Name}, nothing was thrown");
    }
}

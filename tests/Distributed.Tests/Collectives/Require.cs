using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace Dtrain.Tests.Collectives;

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
            That(Regex.IsMatch(e.Message, pattern), $"{typeof(TException).Name} said '{e.Message}', expected /{pattern}/");
            return;
        }
        throw new CheckFailedException($"expected a {typeof(TException).Name}, nothing was thrown");
    }
}

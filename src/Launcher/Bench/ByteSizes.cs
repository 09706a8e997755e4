using System.Globalization;

namespace Dtrain.Launcher.Bench;

/// <summary>Sizes as users write them: 4K, 64M, 1G (powers of 1024), and ranges "4K..256M" that double.</summary>
public static class ByteSizes
{
    public static long Parse(string text)
    {
        string t = text.Trim().ToUpperInvariant();
        long unit = t.EndsWith('K') ? 1L << 10 : t.EndsWith('M') ? 1L << 20 : t.EndsWith('G') ? 1L << 30 : 1;
        string digits = unit == 1 ? t : t[..^1];
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value) || value <= 0)
        {
            throw new UsageException($"'{text}' is not a size (examples: 4096, 4K, 64M, 1G)");
        }
        return value * unit;
    }

    public static IReadOnlyList<long> ParseRange(string text)
    {
        var parts = text.Split("..");
        long first = Parse(parts[0]), last = parts.Length == 2 ? Parse(parts[1]) : first;
        if (parts.Length > 2 || last < first)
        {
            throw new UsageException($"'{text}' is not a size range (example: 4K..256M)");
        }
        var sizes = new List<long>();
        for (long size = first; size <= last; size *= 2) sizes.Add(size);
        return sizes;
    }

    public static string Format(long bytes) =>
        bytes >= 1L << 30 && bytes % (1L << 30) == 0 ? $"{bytes >> 30}G"
        : bytes >= 1L << 20 && bytes % (1L << 20) == 0 ? $"{bytes >> 20}M"
        : bytes >= 1L << 10 && bytes % (1L << 10) == 0 ? $"{bytes >> 10}K"
        : bytes.ToString(CultureInfo.InvariantCulture);
}

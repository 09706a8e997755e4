namespace Dtrain.Tests;

/// <summary>Damages files the way a bad disk or a torn copy would, for the tests of checksummed formats.</summary>
internal static class Corrupt
{
    /// <summary>Flips the bits of <paramref name="mask"/> in the byte at <paramref name="position"/> (the middle byte when null).</summary>
    public static void FlipBits(string path, byte mask, int? position = null)
    {
        var bytes = File.ReadAllBytes(path);
        bytes[position ?? bytes.Length / 2] ^= mask;
        File.WriteAllBytes(path, bytes);
    }
}

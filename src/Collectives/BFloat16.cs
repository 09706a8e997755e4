namespace Dtrain.Collectives;

/// <summary>
/// The bfloat16 format (the top 16 bits of a float32), as TorchSharp stores torch.bfloat16 tensors. .NET has
/// no such type; this one converts to and from float, rounding to nearest even.
/// </summary>
public readonly record struct BFloat16(ushort Bits)
{
    public static explicit operator float(BFloat16 value) => BitConverter.Int32BitsToSingle(value.Bits << 16);

    public static explicit operator BFloat16(float value)
    {
        if (float.IsNaN(value))
        {
            return new BFloat16(0x7FC0);
        }
        uint bits = BitConverter.SingleToUInt32Bits(value);
        bits += 0x7FFFu + ((bits >> 16) & 1u);
        return new BFloat16((ushort)(bits >> 16));
    }

    public override string ToString() => ((float)this).ToString();
}

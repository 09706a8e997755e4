namespace Dtrain.Collectives;

/// <summary>
/// What every message says about the collective it belongs to. A receiver compares it with the collective it
/// is running itself, so ranks that disagree (another operation, size or type, or a skipped call) fail with a
/// <see cref="CollectiveMismatchException"/> instead of hanging or silently mixing data.
/// </summary>
/// <param name="Context">The communicator (world or sub-group) the message belongs to.</param>
/// <param name="Sequence">The collective's number on that communicator (point-to-point: the pair's message number).</param>
/// <param name="Op">The operation.</param>
/// <param name="DataType">The element type.</param>
/// <param name="Count">The collective's total element count.</param>
public readonly record struct MessageHeader(long Context, long Sequence, CollectiveOp Op, DataType DataType, long Count)
{
    public override string ToString() => $"{Op.Name()} #{Sequence} of {Count} {DataType.Name()}";
}

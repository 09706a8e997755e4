namespace Dtrain.Collectives;

public enum ReduceOp
{
    Sum,
    /// <summary>Sum divided by the group size; floating-point types only.</summary>
    Average,
    Max,
    Min,
}

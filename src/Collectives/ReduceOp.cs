namespace Dtrain.Collectives;

public enum ReduceOp
{
    Sum,
    Average,
}

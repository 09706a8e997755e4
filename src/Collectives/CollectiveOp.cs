namespace Dtrain.Collectives;

/// <summary>Which operation a message belongs to; part of every message's header.</summary>
public enum CollectiveOp : byte
{
    AllReduce = 1,
    AllGather,
    ReduceScatter,
    Broadcast,
    Reduce,
    Barrier,
    PointToPoint,
}

public static class CollectiveOpNames
{
    /// <summary>The torch.distributed name of the operation (all_reduce, ...), as used in messages and metrics.</summary>
    public static string Name(this CollectiveOp op) => op switch
    {
        CollectiveOp.AllReduce => "all_reduce",
        CollectiveOp.AllGather => "all_gather",
        CollectiveOp.ReduceScatter => "reduce_scatter",
        CollectiveOp.Broadcast => "broadcast",
        CollectiveOp.Reduce => "reduce",
        CollectiveOp.Barrier => "barrier",
        CollectiveOp.PointToPoint => "send_recv",
        _ => op.ToString(),
    };
}

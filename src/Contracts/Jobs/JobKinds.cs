namespace Dtrain.Contracts.Jobs;

// The choices a job makes, spelled in job files, flags and on the wire as their kebab-case names (cannon-mlp).

/// <summary>The built-in model a job trains.</summary>
public enum ModelKind
{
    /// <summary>Data-parallel: every rank holds the whole model and its own share of each batch.</summary>
    Mlp,
    /// <summary>Tensor-parallel: the workers form a square grid, each holds one block of every weight, and all see the whole batch.</summary>
    CannonMlp,
    /// <summary>Data-parallel GraphSAGE on a partitioned graph, each rank training on the nodes its partition owns.</summary>
    Graphsage,
    /// <summary>A byte-level transformer language model on a text corpus.</summary>
    TransformerLm,
}

public enum OptimizerKind
{
    Adam,
    /// <summary>Distributed Shampoo with Adam grafting, its blocks split across the workers.</summary>
    Shampoo,
}

public enum DeviceKind
{
    Cpu,
    Cuda,
    /// <summary>CUDA when it is available, else the CPU.</summary>
    Auto,
}

/// <summary>How workers exchange gradients.</summary>
public enum TransportKind
{
    Grpc,
    /// <summary>Workers start under mpiexec and exchange gradients over MPI.</summary>
    Mpi,
}

/// <summary>How the grpc transport moves bulk bytes.</summary>
public enum DataChannelKind
{
    /// <summary>Shared memory on one host, else TCP.</summary>
    Auto,
    Shm,
    Tcp,
    /// <summary>The gRPC streams themselves.</summary>
    Http2,
}

/// <summary>The form gradient buckets travel in.</summary>
public enum CompressionKind
{
    None,
    /// <summary>bfloat16: half the bytes.</summary>
    Bf16,
}

public enum GraphTaskKind
{
    /// <summary>Classification of the seed nodes.</summary>
    Node,
    /// <summary>Link prediction, with negative sampling.</summary>
    Link,
}

/// <summary>The graph network's layer: GraphSAGE with the mean or the max-pooling aggregator, or graph attention.</summary>
public enum GnnKind
{
    /// <summary>GraphSAGE, mean of the sampled neighbours.</summary>
    SageMean,
    /// <summary>GraphSAGE, element-wise max of the sampled neighbours after a ReLU layer.</summary>
    SagePool,
    /// <summary>GAT: multi-head attention over the sampled neighbours and the node itself.</summary>
    Gat,
}

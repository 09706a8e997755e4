namespace Dtrain.Graph.Storage;

/// <summary>Which set a node belongs to for node classification; the masks of DGL and PyG as one value per node.</summary>
public enum NodeSplit : byte
{
    None = 0,
    Train = 1,
    Validation = 2,
    Test = 3,
}

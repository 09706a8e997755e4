// Tests share process-wide state (Prometheus's default registry, TorchSharp's seed) and spawn processes that
// compete for 2 cores: run them one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

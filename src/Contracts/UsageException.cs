namespace Dtrain.Contracts;

/// <summary>The command line or job file is wrong: exit code 2, as for any usage error.</summary>
public class UsageException(string message) : DtrainException(message);

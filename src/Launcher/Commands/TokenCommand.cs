using System.CommandLine;
using Dtrain.Contracts.Jobs;
using Dtrain.Launcher.Jobs;

namespace Dtrain.Launcher.Commands;

/// <summary>`dtrain token`: the job token for a job id, for operators who hand it to workers (a Kubernetes Secret, `dtrain status`).</summary>
public static class TokenCommand
{
    public static Command Create()
    {
        var jobId = new Option<string>("--job-id") { Description = "the job's name, as given to `dtrain coordinator` or `dtrain run`", Required = true };
        var command = new Command("token",
            $"Print the job token workers and `dtrain status` present in ${JobEnvironment.JobToken}: HMAC-SHA256 of the job id under ${JobEnvironment.JobSecret}.")
        {
            jobId,
        };
        JobOptions.AcceptJobId(jobId);
        command.SetAction(parse =>
        {
            Console.WriteLine(JobToken.Derive(JobEnvironment.RequireJobSecret(), parse.GetValue(jobId)!));
            return 0;
        });
        return command;
    }
}

using System.CommandLine;
using Dtrain.Contracts.Network;

namespace Dtrain.Launcher.Options;

/// <summary>
/// Validators for options of each kind (a port, an address to listen on, a host to advertise, a server's URL, a
/// duration, an output file), so that every command refuses a bad value at parsing, in one line naming the option:
/// each wraps the one rule of its kind (<see cref="Endpoints"/>, <see cref="Durations"/>, <see cref="OutputPaths"/>).
/// Only a value given on the command line is checked; defaults are valid.
/// </summary>
public static class OptionChecks
{
    public static Option<int> AcceptPort(this Option<int> option, bool zeroPicksFree = false) =>
        option.Check<Option<int>, int>(value => Endpoints.PortProblem(option.Name, value, zeroPicksFree));

    /// <param name="zeroAllowed">Whether 0 is a valid value (no wait at all).</param>
    public static Option<double> AcceptSeconds(this Option<double> option, bool zeroAllowed = false) =>
        option.Check<Option<double>, double>(value => Durations.Problem(option.Name, value, zeroAllowed));

    public static TOption AcceptListenAddress<TOption>(this TOption option) where TOption : Option =>
        option.CheckText(value => Endpoints.ListenAddressProblem(option.Name, value));

    public static TOption AcceptHost<TOption>(this TOption option) where TOption : Option =>
        option.CheckText(value => Endpoints.HostProblem(option.Name, value));

    public static TOption AcceptUrl<TOption>(this TOption option) where TOption : Option =>
        option.CheckText(value => Endpoints.UrlProblem(option.Name, value));

    /// <summary>A file the command writes: not a directory, in a directory that exists and may be written.</summary>
    public static TOption AcceptOutputFile<TOption>(this TOption option) where TOption : Option =>
        option.CheckText(value => OutputPaths.FileProblem(option.Name, value));

    private static TOption CheckText<TOption>(this TOption option, Func<string, string?> problem) where TOption : Option =>
        option.Check<TOption, string?>(value => value is null ? null : problem(value));

    private static TOption Check<TOption, T>(this TOption option, Func<T, string?> problem) where TOption : Option
    {
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count == 0) return;
            T value;
            try
            {
                value = result.GetValueOrDefault<T>();
            }
            catch (InvalidOperationException)
            {
                return; // not of the option's type at all: the parser reports that itself
            }
            if (problem(value) is { } text) result.AddError(text);
        });
        return option;
    }
}

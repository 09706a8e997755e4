using System.Buffers;
using System.Buffers.Binary;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Dtrain.Hosting;

/// <summary>
/// Requests whose bytes are not the message they claim to be. gRPC's server would answer them "Unknown: Exception
/// was thrown by handler" and log a stack trace; these refuse them instead, with a status that says what was wrong.
/// </summary>
public static class MalformedMessages
{
    /// <summary>
    /// A binder that binds each method with a request deserializer that refuses bytes that are not a protobuf
    /// message of the method's request type as INVALID_ARGUMENT ("malformed request: ...").
    /// </summary>
    public static ServiceBinderBase Refusing(ServiceBinderBase binder) => new RefusingBinder(binder);

    /// <summary>
    /// Refuses a gRPC call whose first message announces more than <paramref name="maxBytes"/> as RESOURCE_EXHAUSTED,
    /// before the server reads it: gRPC's own check fails with an exception for a length of 2 GiB or more.
    /// For unary calls, whose one message the client sends with the call.
    /// </summary>
    public static void RefuseOversized(WebApplication app, int maxBytes) => app.Use(async (context, next) =>
    {
        if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true
            && await AnnouncedLengthAsync(context) is { } announced && announced > (uint)maxBytes)
        {
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = ((int)StatusCode.ResourceExhausted).ToString(System.Globalization.CultureInfo.InvariantCulture);
            context.Response.Headers["grpc-message"] = Uri.EscapeDataString($"the message of {announced} bytes exceeds the maximum of {maxBytes} bytes");
            return;
        }
        await next(context);
    });

    /// <summary>The length the first message's prefix announces, without consuming it; null for a body shorter than a prefix.</summary>
    private static async Task<uint?> AnnouncedLengthAsync(HttpContext context)
    {
        var reader = context.Request.BodyReader;
        var read = await reader.ReadAtLeastAsync(5, context.RequestAborted);
        var prefix = read.Buffer.Length >= 5 ? read.Buffer.Slice(1, 4).ToArray() : null;
        reader.AdvanceTo(read.Buffer.Start);
        return prefix is null ? null : BinaryPrimitives.ReadUInt32BigEndian(prefix);
    }

    private static Method<TRequest, TResponse> Guarded<TRequest, TResponse>(Method<TRequest, TResponse> method)
        where TRequest : class where TResponse : class
    {
        var deserialize = method.RequestMarshaller.ContextualDeserializer;
        var marshaller = Marshallers.Create(method.RequestMarshaller.ContextualSerializer, context =>
        {
            try
            {
                return deserialize(context);
            }
            catch (InvalidProtocolBufferException malformed)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"malformed request: {malformed.Message}"));
            }
        });
        return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, marshaller, method.ResponseMarshaller);
    }

    private sealed class RefusingBinder(ServiceBinderBase inner) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Guarded(method), handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Guarded(method), handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Guarded(method), handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Guarded(method), handler);
    }
}

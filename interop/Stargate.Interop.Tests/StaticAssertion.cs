namespace Stargate.Interop.Tests;

/// <summary>One <c>_Static_assert(Condition, "Message")</c>.</summary>
internal sealed record StaticAssertion(string Condition, string Message);

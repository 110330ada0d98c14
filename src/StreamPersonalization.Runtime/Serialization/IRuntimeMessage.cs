namespace StreamPersonalization.Runtime.Serialization;

/// <summary>
/// Marks a message that may cross nodes. HOCON binds this interface to <see cref="RuntimeMessageSerializer"/>
/// (<c>akka.actor.serialization-bindings</c>), so every such message has a compact binary form with a string manifest,
/// never the default JSON one. Each implementation must be registered in <see cref="RuntimeMessageSerializer"/>.
/// </summary>
public interface IRuntimeMessage;

import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's core storage, the 64 KiB body limit, and
/// the connection's channel (a stalled event stream is closed through it).
public struct ServerContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection the request came on.
    public let channel: any Channel

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// Bodies over this get 413 (a statement is a few hundred bytes; 64 KiB is generous).
    public var maxUploadSize: Int { LogbookServer.maxBodyBytes }
}

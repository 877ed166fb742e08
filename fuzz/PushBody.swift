import Foundation

/// libFuzzer entry: the bytes are a push body, as the server's `POST /v1/push` decodes it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPushBody(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = Data(bytes: data, count: size)
    guard let request = try? JSONDecoder().decode(PushRequest.self, from: body) else { return 0 }
    Fuzz.checkMerge(Fuzz.validChanges(request.changes))
    return 0
}

import Foundation

/// libFuzzer entry: the bytes are a pull response, as the laptop's sync engine decodes it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPullBody(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = Data(bytes: data, count: size)
    guard let response = try? JSONDecoder().decode(PullResponse.self, from: body) else { return 0 }
    guard let encoded = try? JSONEncoder().encode(response),
        let decoded = try? JSONDecoder().decode(PullResponse.self, from: encoded), decoded == response
    else { Fuzz.fail("a decoded pull response did not survive a JSON round trip") }
    Fuzz.checkMerge(Fuzz.validChanges(response.changes))
    return 0
}

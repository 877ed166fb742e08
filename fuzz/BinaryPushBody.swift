import Foundation

/// libFuzzer entry: the bytes are a binary push body (`BinaryPush`), as the server's
/// `POST /v1/push` decodes it with `Content-Type: application/vnd.kakehashi.push`, or a binary
/// push answer, as the laptop reads it. A body that reads must read back the same after writing
/// it again and after a trip through JSON, and its changes keep the merge properties. The seeds
/// are the JSON push bodies of `fuzz/corpus/PushBody`: a JSON body that decodes is also written
/// in binary and read back, so the encoder is exercised on real laptop batches.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBinaryPushBody(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let json = try? JSONDecoder().decode(PushRequest.self, from: Data(bytes)) {
        roundTrip(json)
    }
    if let answer = try? BinaryPush.pushResponse(from: bytes) {
        guard (try? BinaryPush.pushResponse(from: BinaryPush.encode(answer))) == answer else {
            Fuzz.fail("a binary push answer did not read back as written")
        }
    }
    guard let request = try? BinaryPush.pushRequest(from: bytes) else { return 0 }
    roundTrip(request)
    guard let encoded = try? JSONEncoder().encode(request),
        let decoded = try? JSONDecoder().decode(PushRequest.self, from: encoded), decoded == request
    else { Fuzz.fail("a binary push body did not survive a JSON round trip") }
    Fuzz.checkMerge(Fuzz.validChanges(request.changes))
    return 0
}

/// Writing a body and reading it back gives the body, and a body without its last byte is refused.
private func roundTrip(_ request: PushRequest) {
    let bytes = BinaryPush.encode(request)
    guard let read = try? BinaryPush.pushRequest(from: bytes), read == request else {
        Fuzz.fail("a binary push body did not read back as written")
    }
    if (try? BinaryPush.pushRequest(from: Array(bytes.dropLast()))) != nil {
        Fuzz.fail("a binary push body without its last byte was read")
    }
}

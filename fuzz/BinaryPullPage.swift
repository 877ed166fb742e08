import Foundation

/// libFuzzer entry: the bytes are a binary pull page (`BinaryPage`), as the laptop's transport
/// reads it. A page that reads must read back the same after writing it again and after a trip
/// through JSON, and its changes keep the merge properties. The seeds are the JSON pull bodies of
/// `fuzz/corpus/PullBody`: a JSON page that decodes is also written in binary and read back, so
/// the encoder is exercised on real server pages.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBinaryPullPage(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let json = try? JSONDecoder().decode(PullResponse.self, from: Data(bytes)) {
        roundTrip(json)
    }
    guard let page = try? BinaryPage.pullResponse(from: bytes) else { return 0 }
    roundTrip(page)
    guard let encoded = try? JSONEncoder().encode(page),
        let decoded = try? JSONDecoder().decode(PullResponse.self, from: encoded), decoded == page
    else { Fuzz.fail("a binary page did not survive a JSON round trip") }
    Fuzz.checkMerge(Fuzz.validChanges(page.changes))
    return 0
}

/// Writing a page and reading it back gives the page, and every cut of its bytes is refused.
private func roundTrip(_ page: PullResponse) {
    let bytes = BinaryPage.encode(page)
    guard let read = try? BinaryPage.pullResponse(from: bytes), read == page else {
        Fuzz.fail("a binary page did not read back as written")
    }
    if bytes.count > 1, (try? BinaryPage.pullResponse(from: Array(bytes.dropLast()))) != nil {
        Fuzz.fail("a binary page without its last byte was read")
    }
}

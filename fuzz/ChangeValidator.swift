import Foundation

/// libFuzzer entry: the bytes are one change; checks `Change.validated()` and the merge on it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChange(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = Data(bytes: data, count: size)
    guard let change = try? JSONDecoder().decode(Change.self, from: body) else { return 0 }
    Fuzz.checkMerge(Fuzz.validChanges([change]))
    return 0
}

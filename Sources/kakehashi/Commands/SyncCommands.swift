import ArgumentParser
import Foundation
import KakehashiClient
import KakehashiShared

struct InitCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Enroll this laptop with the server using a one-time code, then sync.",
        discussion:
            "An administrator prints the code with `kakehashi-server enroll ADVISOR`. Codes work once and expire."
    )

    @OptionGroup var options: ClientOptions
    @Option(help: "Server base URL, e.g. https://kakehashi.example.go.jp") var server: String
    @Option(help: "One-time enrollment code.") var code: String
    @Option(help: "PEM file of a private certificate authority to trust.") var cacert: String?
    @Option(
        help: ArgumentHelp(
            "The name `kakehashi-server devices` shows for this laptop (default: its hostname).",
            valueName: "name"))
    var name: String?

    /// The device name sent at enrollment: `--name`, else the hostname.
    /// - Throws: `KakehashiError` (`.usage`) for an empty name, one over 100 characters or on more
    ///   than one line (the server's rule), before the one-time code is spent.
    func deviceName() throws -> String {
        let chosen = (name ?? Self.hostname()).trimmingCharacters(in: .whitespaces)
        guard !chosen.isEmpty, chosen.count <= 100, !chosen.unicodeScalars.contains(where: { $0.value < 0x20 })
        else {
            throw KakehashiError(.usage, field: "name", "the device name must be 1 to 100 characters on one line")
        }
        return chosen
    }

    /// This machine's hostname (`gethostname`), or `kakehashi-laptop` when it has none.
    static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "kakehashi-laptop" }
        let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.isEmpty ? "kakehashi-laptop" : text
    }

    func execute() async throws {
        guard server.hasPrefix("http://") || server.hasPrefix("https://") else {
            throw KakehashiError(.usage, field: "server", "'\(server)' is not an http:// or https:// URL")
        }
        if let cacert, !FileManager.default.isReadableFile(atPath: cacert) {
            throw KakehashiError(.usage, field: "cacert", "cannot read '\(cacert)'")
        }
        let deviceName = try deviceName()
        let directory = try options.directory()
        let transport = CurlTransport(baseURL: server, cacert: cacert)
        let client = try await FieldClient.enroll(
            directory: directory, server: server, code: code, cacert: cacert, deviceName: deviceName,
            transport: transport)
        let identity = try client.identity()
        let summary: SyncEngine.Summary
        do {
            summary = try await SyncEngine(client: client, transport: transport).run()
        } catch let error as KakehashiError {
            Output.note(
                "enrolled as device \(identity.device) (\(deviceName)) in \(directory), but the first sync failed; run `kakehashi sync` later"
            )
            throw error
        }
        if options.json {
            try Output.json([
                "device": identity.device.rawValue, "name": deviceName, "advisor": identity.advisor, "home": directory,
            ])
        } else {
            Output.line(identity.device.rawValue)
            Output.note(
                "enrolled as device \(identity.device) named \(deviceName) in \(directory); pulled \(summary.pulled) changes"
                    + (summary.states > 0 ? " and \(summary.states) records as they stand" : "")
            )
            if summary.historyPending { Output.note(SyncCommand.historyPendingNotice) }
        }
    }
}

struct SyncCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: "Push local changes, then pull until caught up with the server.",
        discussion: """
            On a terminal, progress (changes, pages, bytes) is shown on stderr. When the server \
            stops answering, sync says so within seconds and while it retries; the last line says \
            what arrived: new cases, referrals to you, new conflicts. --cacert sets the private \
            certificate authority for this and every later sync (a TLS failure says when it is needed).
            """)

    @OptionGroup var options: ClientOptions
    @Option(help: "PEM file of a private certificate authority to trust; remembered for later syncs.")
    var cacert: String?

    func execute() async throws {
        let client = try options.client()
        if let cacert {
            guard FileManager.default.isReadableFile(atPath: cacert) else {
                throw KakehashiError(.usage, field: "cacert", "cannot read '\(cacert)'")
            }
            let absolute = URL(fileURLWithPath: cacert).standardizedFileURL.path
            try client.rememberCertificateAuthority(absolute)
        }
        let identity = try client.identity()
        var transport = CurlTransport(baseURL: identity.server, cacert: identity.cacert)
        let showBar = !options.json && Output.stderrIsTerminal
        transport.observer = { event in
            let text = Self.describe(event)
            if showBar { Output.progress(text) } else if !options.json { Output.note(text) }
        }
        let summary: SyncEngine.Summary
        do {
            summary = try await SyncEngine(client: client, transport: transport).run { progress in
                guard showBar else { return }
                Output.progress(Self.bar(progress))
            }
            if showBar { Output.finishProgress() }
        } catch {
            if showBar { Output.finishProgress() }
            throw error
        }
        if options.json {
            try Output.json(summary)
            return
        }
        var line = "synced: pushed \(summary.accepted)"
        if summary.duplicates > 0 { line += " (+\(summary.duplicates) already on the server)" }
        line += ", pulled \(summary.pulled)"
        if summary.states > 0 { line += " and \(summary.states) records as they stand" }
        if summary.purged > 0 { line += ", removed \(summary.purged) cases no longer shared with you" }
        line += ", \(Output.bytes(summary.bytes)); \(summary.conflicts) conflict(s)"
        Output.line(line)
        if let recovery = summary.recovery { Output.line(Self.recoveryNotice(recovery)) }
        // Every refused change is in the refused store with its reason and its text.
        if let notice = Self.refusedNotice(summary) { Output.line(notice) }
        Output.line(Self.arrivals(summary.arrived))
        if summary.historyPending { Output.line(Self.historyPendingNotice) }
        if abs(summary.clockOffset) >= 60_000 {
            Output.note(
                "note: this laptop's clock is \(summary.clockOffset / 1000) s off the server's; Kakehashi corrects for it"
            )
        }
    }
}

extension SyncCommand {
    /// After a sync that left part of a bootstrap's history for later.
    static let historyPendingNotice = """
        変更履歴 (kakehashi log) の一部はまだ受信していません。次の sync で続きを受信します
        （記録の内容はそろっています）
        """

    /// One line after a sync that found the server restored from a backup (or replaced).
    static func recoveryNotice(_ recovery: SyncEngine.Recovery) -> String {
        let tail =
            recovery.reloaded
            ? "データを最初から受信し直しました。" : "受信し直しは次の sync で続けます。"
        return "サーバーがバックアップから復元されていたため、この端末の変更 \(recovery.resent) 件を再送し"
            + "（うちサーバーになかった変更 \(recovery.restored) 件）、\(tail)"
    }

    /// One line when the sync put changes into the refused store, so nothing typed is lost silently.
    static func refusedNotice(_ summary: SyncEngine.Summary) -> String? {
        let hint = "内容は `kakehashi refused` で確認できます"
        switch (summary.refused, summary.keptFromPurges) {
        case (0, 0):
            return nil
        case (let refused, 0):
            return "サーバーが \(refused) 件の変更を受け付けませんでした。\(hint)"
        case (0, let kept):
            return "アクセスできなくなった案件から、あなたの変更 \(kept) 件を消える前に保管しました。\(hint)"
        case (let refused, let kept):
            return "サーバーが \(refused) 件の変更を受け付けず、アクセスできなくなった案件からあなたの変更 \(kept) 件を保管しました。\(hint)"
        }
    }

    /// The last line: what this sync brought that was not on the laptop before.
    static func arrivals(_ arrived: SyncEngine.Arrivals) -> String {
        var parts: [String] = []
        if arrived.newCases > 0 { parts.append("新しい案件 \(arrived.newCases) 件") }
        if arrived.referralsToMe > 0 { parts.append("あなたへの紹介 \(arrived.referralsToMe) 件") }
        if arrived.newConflicts > 0 {
            parts.append("新しい競合 \(arrived.newConflicts) 件（`kakehashi conflicts` で確認）")
        }
        return parts.isEmpty ? "新着: なし" : "新着: " + parts.joined(separator: "、")
    }

    /// A stalled or retried request, in one line.
    static func describe(_ event: TransportEvent) -> String {
        switch event {
        case .waiting(let seconds):
            return "サーバーから \(seconds) 秒応答がありません。待っています…（中断しても入力は失われません）"
        case .retrying(let attempt, let of, let delay, let reason):
            return
                "サーバーとの通信に失敗しました (\(reason.prefix(120)))。\(String(format: "%.1f", delay)) 秒後に再試行します (\(attempt)/\(of))"
        }
    }

    /// `push [██████░░░░░░] 300/500 changes, 1.2 MB` while pushing; pages and a count while pulling.
    static func bar(_ progress: SyncEngine.Progress) -> String {
        let bytes = Output.bytes(progress.bytes)
        guard let total = progress.total, total > 0 else {
            return "\(progress.phase.rawValue): \(progress.pages) pages, \(progress.changes) changes, \(bytes)"
        }
        let filled = min(20, progress.changes * 20 / total)
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: 20 - filled)
        return "\(progress.phase.rawValue) [\(bar)] \(progress.changes)/\(total) changes, \(bytes)"
    }
}

struct StatusCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show pending changes, rejections, conflicts and the last sync.")

    @OptionGroup var options: ClientOptions

    func execute() async throws {
        let status = try options.client().status()
        if options.json {
            try Output.json(status)
            return
        }
        var table = TextTable(headers: ["サーバー", status.server])
        table.fixedColumns = [0]
        table.append(["端末", status.device])
        table.append(["担当者", status.advisorName.map { "\($0) (\(ShortID.of(status.advisor)))" } ?? status.advisor])
        table.append(["未送信の変更", "\(status.pending) 件"])
        table.append(["競合", "\(status.conflicts) 件（kakehashi conflicts）"])
        table.append(["拒否された変更", "\(status.rejected.count) 件"])
        table.append(["保管された変更", "\(status.refused) 件（kakehashi refused）"])
        table.append(["最終同期", status.lastSync.map { JapanTime.text(millis: $0) } ?? "未同期"])
        if status.historyPending { table.append(["変更履歴", "一部未受信（次の sync で受信）"]) }
        if status.searchIndexPending { table.append(["検索の索引", "未作成（sync を完了すると作成）"]) }
        Output.table(table)
        for rejection in status.rejected {
            Output.line(
                "  拒否 \(rejection.change)（\(rejection.field ?? "削除")、\(ShortID.of(rejection.record))）: \(rejection.reason)"
            )
        }
    }
}

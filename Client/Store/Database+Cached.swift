import GRDB

extension Database {
    /// Executes `sql` through GRDB's per-connection statement cache: the hot path of applying
    /// pulled changes runs the same few statements hundreds of thousands of times.
    func run(_ sql: String, _ arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}
